// As Flink's StreamCheckpointingITCase: a stage throws once at a random point between 40 % and 70 %
// of its input; here in a child process, with a SIGKILL before the throw and one right after it.
// The failing event is reported through onError and never applied; every other event counts once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultLab, checkSink, faultSeed, readLog, readResult, seededRandom, sleep, waitForLog, type WorkerRun } from './fixtures/harness.js';
import type { WorkerLogLine } from './fixtures/worker.js';
import { expectedRun } from './fixtures/workload.js';

const EVENTS = 200_000;

let lab: FaultLab;
beforeAll(async () => {
  lab = await FaultLab.create(EVENTS);
});
afterAll(async () => {
  await lab.cleanup();
});

type ErrorLine = Extract<WorkerLogLine, { t: 'error' }>;
const errorsOf = (log: readonly WorkerLogLine[]): ErrorLine[] => log.filter((l): l is ErrorLine => l.t === 'error');

describe('a stage that throws once, with kills', () => {
  it('ends with exact states and sink when enrich throws once between 40 % and 70 % of its input, killed before and right after the throw', { timeout: 120_000 }, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    // Offsets are 1-based line numbers.
    const failAt = 1 + Math.floor(EVENTS * (0.4 + 0.3 * random()));
    const expected = expectedRun(EVENTS, { stage: 'enrich', offset: failAt });
    const config = lab.config('throws', { failAt });
    const runs: WorkerRun[] = [];
    const killed = new Set<number>();
    const notes: string[] = [];
    const why = () => `seed ${seed}, enrich fails at offset ${failAt}; ${notes.join('; ')}`;

    // Kill 1: once a checkpoint between 10 % and 35 % of the input completed, before the throw.
    const killAt = Math.floor(EVENTS * (0.1 + 0.25 * random()));
    const first = lab.start(config);
    runs.push(first);
    expect(await waitForLog(first, (log) => log.some((l) => l.t === 'completed' && l.offset >= killAt)), `${why()}\n${first.stderr()}`).toBe(true);
    const delay1 = random() * 20;
    await sleep(delay1);
    await lab.kill(first);
    killed.add(first.index);
    notes.push(`run ${first.index} killed ${delay1.toFixed(1)} ms after a checkpoint past ${killAt}`);

    // Kill 2: 0–30 ms after the throw was reported, while the stage restarts and replays.
    const second = lab.start(config);
    runs.push(second);
    const threw = await waitForLog(second, (log) => errorsOf(log).length > 0);
    let last: WorkerRun = second;
    if (threw && second.process.exitCode === null) {
      const delay2 = random() * 30;
      await sleep(delay2);
      const exit = await lab.kill(second);
      if (exit.signal === 'SIGKILL') {
        killed.add(second.index);
        notes.push(`run ${second.index} killed ${delay2.toFixed(1)} ms after the throw`);
        last = lab.start(config);
        runs.push(last);
      }
    }
    const exit = await last.exited;
    expect(exit, `${why()}\n${last.stderr()}`).toEqual({ code: 0, signal: null });

    const errors = runs.flatMap((run) => errorsOf(readLog(run)));
    expect(errors.length, `no failure was reported; ${why()}`).toBeGreaterThan(0);
    // Each process that reached the event threw on it once: always that one event, nothing else.
    expect(errors.map((e) => e.offsets), why()).toEqual(errors.map(() => [failAt]));
    expect(errors.every((e) => e.message.includes(`enrich fails once at offset ${failAt}`)), JSON.stringify(errors)).toBe(true);

    const result = readResult(config.result);
    const lastLog = readLog(last);
    expect(result.stages.enrich?.restarts, why()).toBe(errorsOf(lastLog).length);
    expect(lastLog.filter((l) => l.t === 'restart').map((l) => (l as { stage: string }).stage), why()).toEqual(errorsOf(lastLog).map(() => 'enrich'));
    expect(result.states, why()).toEqual(expected.states);
    const sink = await checkSink(runs, expected.sink, killed);
    expect({ conflicting: sink.conflicting, wrong: sink.wrong, missing: sink.missing, keys: sink.keys }, why()).toEqual({
      conflicting: [],
      wrong: [],
      missing: [],
      keys: EVENTS - 1,
    });
    console.log(`fault: ${why()}; ${errors.length} reports of the failing event over ${runs.length} runs`);
    expect(lab.alive()).toEqual([]);
  });
});
