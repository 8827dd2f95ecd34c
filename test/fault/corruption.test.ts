// Damaged checkpoint data between real child runs: a flipped bit in a stored snapshot, every
// snapshot corrupt, and a LevelDB log cut short after a SIGKILL. Each time the next run must open
// the store, restore the newest checkpoint that is still valid (or none), and end exact.
import { readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { FaultLab, checkSink, faultSeed, readLog, seededRandom, sleep, waitForLog, type WorkerRun } from './fixtures/harness.js';
import type { WorkerLogLine } from './fixtures/worker.js';
import { expectedRun } from './fixtures/workload.js';

const EVENTS = 200_000;
const STAGES = ['parse', 'enrich', 'aggregate'] as const;
const expected = expectedRun(EVENTS);
const seed = faultSeed();
const random = seededRandom(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

let lab: FaultLab;
beforeAll(async () => {
  lab = await FaultLab.create(EVENTS);
});
afterAll(async () => {
  await lab.cleanup();
});

const completedCount = (log: readonly WorkerLogLine[]) => log.filter((l) => l.t === 'completed').length;
const corruptKeys = (log: readonly WorkerLogLine[]) => log.flatMap((l) => (l.t === 'corrupt' ? [l.key] : []));
const restoredOf = (log: readonly WorkerLogLine[]) => log.find((l): l is Extract<WorkerLogLine, { t: 'ready' }> => l.t === 'ready')?.restored;

/** Runs a worker until its log shows `completed` checkpoints, then SIGKILLs it a random 0–20 ms later. */
async function killAfterCheckpoints(config: ReturnType<FaultLab['config']>, completed: number): Promise<WorkerRun> {
  const run = lab.start(config);
  const reached = await waitForLog(run, (log) => completedCount(log) >= completed);
  expect(reached, `run ${run.index} never completed ${completed} checkpoints (seed ${seed}):\n${run.stderr()}`).toBe(true);
  await sleep(random() * 20);
  const exit = await lab.kill(run);
  expect(exit.signal, `run ${run.index} ended by itself before its kill: ${JSON.stringify(exit)}`).toBe('SIGKILL');
  return run;
}

/** Flips one random bit of the stored value under `key`; returns which bit. */
async function flipBit(dir: string, key: string): Promise<number> {
  const store = createCheckpointStore({ dir });
  try {
    let value: Uint8Array | undefined;
    for await (const entry of store.entries(key)) if (entry.key === key) value = entry.value;
    if (value === undefined) throw new Error(`no stored value under ${key}`);
    const flipped = Uint8Array.from(value);
    const bit = Math.floor(random() * flipped.length * 8);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    await store.putRaw(key, flipped);
    return bit;
  } finally {
    await store.close();
  }
}

/** Completed checkpoint versions in the store, newest first, and the newest snapshot key of a stage. */
async function stored(dir: string, stage: string): Promise<{ completed: number[]; newestSnapshotKey: string }> {
  const store = createCheckpointStore({ dir, readOnly: true });
  try {
    const completed: number[] = [];
    for await (const read of store.completed('fault')) if (read.ok) completed.push(read.value.version);
    let newestSnapshotKey = '';
    for await (const entry of store.entries(`ckpt!fault!${stage}!`)) newestSnapshotKey = entry.key;
    return { completed, newestSnapshotKey };
  } finally {
    await store.close();
  }
}

describe('corrupt checkpoints between child runs', () => {
  it('detects a flipped bit in the newest checkpoint (after a kill, and after the end) and restores the previous one, exact', { timeout: 120_000 }, async () => {
    const config = lab.config('flip');
    const killed = await killAfterCheckpoints(config, 3);

    // After the kill: damage the newest completed checkpoint's snapshot of one stage.
    const stage = pick(STAGES);
    const before = await stored(config.dir, stage);
    const [newest, previous] = before.completed;
    expect(previous, `seed ${seed}: fewer than two completed checkpoints stored: ${before.completed.join(', ')}`).toBeDefined();
    const key = `ckpt!fault!${stage}!${String(newest).padStart(16, '0')}`;
    const bit = await flipBit(config.dir, key);
    const why = `seed ${seed}, ${key} bit ${bit}`;

    const second = await lab.runToEnd(config);
    const log2 = readLog(second.run);
    expect(corruptKeys(log2), why).toEqual([key]);
    expect(restoredOf(log2)?.version, why).toBe(previous);
    expect(second.result.checkpoint.corrupt, why).toBe(1);
    expect(second.result.checkpoint.restored?.version, why).toBe(previous);
    expect(second.result.states, why).toEqual(expected.states);

    // After the end: the newest `ckpt!` value of one stage is the final checkpoint's.
    const stage3 = pick(STAGES);
    const after = await stored(config.dir, stage3);
    const [final, beforeFinal] = after.completed;
    expect(after.newestSnapshotKey).toBe(`ckpt!fault!${stage3}!${String(final).padStart(16, '0')}`);
    const bit3 = await flipBit(config.dir, after.newestSnapshotKey);
    const why3 = `seed ${seed}, ${after.newestSnapshotKey} bit ${bit3}`;
    const third = await lab.runToEnd(config);
    const log3 = readLog(third.run);
    expect(corruptKeys(log3), why3).toEqual([after.newestSnapshotKey]);
    expect(third.result.checkpoint.restored?.version, why3).toBe(beforeFinal);
    expect(third.result.states, why3).toEqual(expected.states);

    const sink = await checkSink([killed, second.run, third.run], expected.sink, new Set([killed.index]));
    expect({ conflicting: sink.conflicting, wrong: sink.wrong, missing: sink.missing, keys: sink.keys }, why3).toEqual({ conflicting: [], wrong: [], missing: [], keys: EVENTS });
    expect(lab.alive()).toEqual([]);
  });

  it('starts from the initial states with none_valid and a corrupt count when every snapshot is corrupt, and replays the source from its start', { timeout: 120_000 }, async () => {
    const config = lab.config('allbad');
    const first = await lab.runToEnd(config);
    expect(first.result.states).toEqual(expected.states);
    const keys: string[] = [];
    const store = createCheckpointStore({ dir: config.dir });
    for await (const entry of store.entries('ckpt!fault!')) keys.push(entry.key);
    await store.close();
    for (const key of keys) await flipBit(config.dir, key);
    expect(keys.length).toBeGreaterThanOrEqual(STAGES.length);

    const second = await lab.runToEnd(config);
    const log = readLog(second.run);
    const none = log.filter((l) => l.t === 'none_valid');
    expect(none, `seed ${seed}`).toHaveLength(1);
    expect(restoredOf(log), `seed ${seed}`).toBeNull();
    expect(second.result.checkpoint.restored).toBeNull();
    expect(second.result.checkpoint.corrupt).toBeGreaterThan(0);
    expect(corruptKeys(log).every((k) => keys.includes(k)), corruptKeys(log).join(', ')).toBe(true);
    expect(second.result.source.events).toBe(EVENTS);
    expect(second.result.states).toEqual(expected.states);
    const sink = await checkSink([first.run, second.run], expected.sink, new Set());
    expect({ conflicting: sink.conflicting, wrong: sink.wrong, keys: sink.keys, duplicates: sink.duplicates }).toEqual({ conflicting: [], wrong: [], keys: EVENTS, duplicates: EVENTS });
    expect(lab.alive()).toEqual([]);
  });

  it('opens after a SIGKILL and the newest LevelDB log cut at a random offset, restores a valid older checkpoint and ends exact', { timeout: 120_000 }, async () => {
    const config = lab.config('cut');
    // The first run's checkpoints reach a table file when the second run opens the store (LevelDB
    // turns the log it recovers into a table), so the log the test cuts holds the second run's writes only.
    const first = await killAfterCheckpoints(config, 2);
    const second = await killAfterCheckpoints(config, 2);
    const log2 = readLog(second);
    const restoredBySecond = restoredOf(log2);
    expect(restoredBySecond, `seed ${seed}: the second run restored nothing`).not.toBeNull();
    const begun = Math.max(...[...readLog(first), ...log2].flatMap((l) => (l.t === 'written' ? [l.version] : [])));
    const lastCompleted = Math.max(...log2.flatMap((l) => (l.t === 'completed' ? [l.version] : [])));

    const logs = (await readdir(config.dir)).filter((name) => name.endsWith('.log')).sort();
    const newest = logs.at(-1);
    expect(newest, `no .log file in ${config.dir}`).toBeDefined();
    const path = join(config.dir, newest as string);
    const size = (await stat(path)).size;
    expect(size).toBeGreaterThan(0);
    const offset = Math.floor(random() * size);
    await truncate(path, offset);
    const why = `seed ${seed}: ${newest} cut at ${offset} of ${size} bytes; the second run restored ${restoredBySecond?.version}, completed up to ${lastCompleted}`;

    const third = await lab.runToEnd(config);
    const restored = third.result.checkpoint.restored;
    expect(restored, why).not.toBeNull();
    expect(restored!.version, why).toBeGreaterThanOrEqual(restoredBySecond!.version);
    expect(restored!.version, why).toBeLessThanOrEqual(begun);
    expect(third.result.states, why).toEqual(expected.states);
    const sink = await checkSink([first, second, third.run], expected.sink, new Set([first.index, second.index]));
    expect({ conflicting: sink.conflicting, wrong: sink.wrong, missing: sink.missing, keys: sink.keys }, why).toEqual({ conflicting: [], wrong: [], missing: [], keys: EVENTS });
    console.log(`fault: ${why}; the third run restored ${restored!.version}`);
    expect(lab.alive()).toEqual([]);
  });
});
