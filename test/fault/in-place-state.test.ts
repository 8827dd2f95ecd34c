// A stage that updates its state object in place (as bench/pipeline.bench.ts's aggregate does) and
// throws once, in a child process killed once: recovery must still count every event once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultLab, checkSink, faultSeed, readLog, readResult, seededRandom, sleep, waitForLog } from './fixtures/harness.js';
import { expectedRun } from './fixtures/workload.js';

const EVENTS = 200_000;

let lab: FaultLab;
beforeAll(async () => {
  lab = await FaultLab.create(EVENTS);
});
afterAll(async () => {
  await lab.cleanup();
});

describe('a stage that updates its state in place', () => {
  it('counts every event once after an in-process restart and a kill', { timeout: 120_000 }, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const failAt = 1 + Math.floor(EVENTS * (0.4 + 0.3 * random()));
    const expected = expectedRun(EVENTS, { stage: 'aggregate', offset: failAt });
    const config = lab.config('in-place', { inPlace: true, failAt, failStage: 'aggregate' });
    const why = `seed ${seed}, aggregate (in place) fails once at offset ${failAt}`;

    const first = lab.start(config);
    expect(await waitForLog(first, (log) => log.filter((l) => l.t === 'completed').length >= 2), `${why}\n${first.stderr()}`).toBe(true);
    await sleep(random() * 20);
    const exit1 = await lab.kill(first);
    const second = await lab.runToEnd(config);
    const runs = [first, second.run];
    const errors = runs.flatMap((run) => readLog(run).filter((l) => l.t === 'error'));
    expect(errors.length, why).toBeGreaterThan(0);
    const result = readResult(config.result);
    expect(result.states.aggregate, `${why}; first run ended by ${exit1.signal ?? exit1.code}`).toEqual(expected.states.aggregate);
    expect(result.states, why).toEqual(expected.states);
    const sink = await checkSink(runs, expected.sink, new Set(exit1.signal === 'SIGKILL' ? [first.index] : []));
    expect({ conflicting: sink.conflicting.length, wrong: sink.wrong, missing: sink.missing, keys: sink.keys }, why).toEqual({ conflicting: 0, wrong: [], missing: [], keys: EVENTS - 1 });
    expect(lab.alive()).toEqual([]);
  });
});
