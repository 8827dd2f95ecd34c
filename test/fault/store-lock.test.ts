// Two processes start the same checkpointed pipeline on one directory: the second must fail at once
// with CHECKPOINT_STORE_LOCKED, and the first must finish as if it had been alone.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultLab, checkSink, readLog, readResult, waitForLog } from './fixtures/harness.js';
import { expectedRun } from './fixtures/workload.js';

const EVENTS = 200_000;

let lab: FaultLab;
beforeAll(async () => {
  lab = await FaultLab.create(EVENTS);
});
afterAll(async () => {
  await lab.cleanup();
});

describe('one checkpoint directory, two processes', () => {
  it('fails the second process with CHECKPOINT_STORE_LOCKED while the first holds the dir, and the first completes unaffected', { timeout: 120_000 }, async () => {
    const expected = expectedRun(EVENTS);
    const gate = join(lab.root, 'gate');
    // The holder stops at its middle (enrich waits for the gate file) after a few checkpoints.
    const holder = lab.start(lab.config('shared', { holdAt: EVENTS / 2, gate }));
    expect((await holder.firstLine)?.t, holder.stderr()).toBe('ready');
    expect(await waitForLog(holder, (log) => log.filter((l) => l.t === 'completed').length >= 2)).toBe(true);

    const intruder = lab.start(lab.config('shared', { log: join(lab.root, 'intruder.log.ndjson'), sink: join(lab.root, 'intruder.sink.ndjson') }));
    const line = await intruder.firstLine;
    const exit = await intruder.exited;
    expect(line, intruder.stderr()).toMatchObject({ t: 'start-failed', code: 'CHECKPOINT_STORE_LOCKED' });
    expect(exit).toEqual({ code: 3, signal: null });
    // At once, not after a retry loop: its whole life is start-up plus one failed open.
    expect(performance.now() - intruder.spawnedAt).toBeLessThan(15_000);
    // It wrote nothing: no output, no checkpoint event.
    expect(readLog(intruder).map((l) => l.t)).toEqual(['start-failed']);
    const intruderSink = await checkSink([intruder], expected.sink, new Set());
    expect(intruderSink.lines).toBe(0);
    expect(holder.process.exitCode).toBeNull();

    await writeFile(gate, '');
    const done = await holder.exited;
    expect(done, holder.stderr()).toEqual({ code: 0, signal: null });
    const log = readLog(holder);
    expect(log.filter((l) => l.t === 'failed' || l.t === 'error' || l.t === 'restart')).toEqual([]);
    const { states, checkpoint } = readResult(holder.config.result);
    expect(states).toEqual(expected.states);
    expect(checkpoint.restored).toBeNull();
    expect(checkpoint.last?.offset).toBe(EVENTS);
    // One uninterrupted run: every key exactly once.
    const sink = await checkSink([holder], expected.sink, new Set());
    expect({ keys: sink.keys, duplicates: sink.duplicates, wrong: sink.wrong }).toEqual({ keys: EVENTS, duplicates: 0, wrong: [] });
    expect(lab.alive()).toEqual([]);
  });
});
