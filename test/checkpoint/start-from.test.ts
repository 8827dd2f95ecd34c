import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { checkpointHistory, type CheckpointRecord } from '../../src/checkpoint/history.js';
import { openAndFindRestorePoint } from '../../src/checkpoint/restore.js';
import type { CheckpointStore, RawEntry } from '../../src/checkpoint/types.js';
import { createPipeline, defineStage, fromIterable, isSteadfastError, toArray } from '../../src/index.js';
import { events, whatIfPipeline, writeOriginal, type Tally } from '../helpers/what-if.js';
import { collect, done, snapshot } from './store-conformance.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-from-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const COUNT = 120; // writeOriginal's 4 sessions of 30
const sumTo = (n: number): number => (n * (n - 1)) / 2;

async function withStore<T>(work: (store: CheckpointStore) => Promise<T>): Promise<T> {
  const store = createCheckpointStore({ dir });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Writes the original history (4 checkpoints at offsets 29 … 119) into `dir`; resolves with it, newest first. */
async function original(): Promise<CheckpointRecord[]> {
  await writeOriginal(dir);
  const history = await withStore((store) => checkpointHistory(store, 'orders'));
  expect(history.map((r) => r.offset)).toEqual([119, 89, 59, 29]);
  expect(history.every((r) => r.verified)).toBe(true);
  return history;
}

const rawOf = (store: CheckpointStore, prefix: string): Promise<RawEntry[]> => collect(store.entries(prefix));

describe('pipeline.start({ from })', () => {
  it('restores exactly that checkpoint, replays the source after its offset, and keeps every checkpoint it did not write', async () => {
    const history = await original();
    const from = history.at(-1) as CheckpointRecord; // the oldest kept: newer ones exist
    const before = await withStore(async (store) => [...(await rawOf(store, 'ckpt!')), ...(await rawOf(store, 'done!'))]);

    // The what-if rerun: the fixed stage, a checkpoint every 10 events, keep: 1 (so its final
    // checkpoint prunes below its own version, above every version of the original).
    const { pipeline, sink } = whatIfPipeline(dir, events(COUNT), { version: 2, keep: 1, everyEvents: 10 });
    await pipeline.start({ from: from.checkpointId });
    const stats = await pipeline.done;
    expect(stats.checkpoint?.restored).toEqual({ version: from.version, offset: from.offset });
    const replayed = events(COUNT).filter((e) => e.i > from.offset);
    expect(replayed.length).toBeGreaterThan(0);
    expect(sink.items).toEqual(replayed.map((e) => `${e.i}:${e.i * 3}`));
    expect(pipeline.stageState<Tally>('tally')).toEqual({ n: COUNT, sum: sumTo(COUNT), last: `e${COUNT - 1}` });

    await withStore(async (store) => {
      // Byte for byte, every snapshot and marker of the original is still there.
      const now = new Map([...(await rawOf(store, 'ckpt!')), ...(await rawOf(store, 'done!'))].map((e) => [e.key, e.value]));
      for (const entry of before) expect(now.get(entry.key), entry.key).toEqual(entry.value);
      const after = await checkpointHistory(store, 'orders');
      const mine = after.filter((r) => !history.some((h) => h.checkpointId === r.checkpointId));
      // Its own checkpoints continue above the newest version, and keep: 1 pruned only them.
      expect(mine.length).toBe(1);
      expect(after.length).toBe(history.length + 1);
      expect(Math.min(...mine.map((r) => r.version))).toBeGreaterThan((history[0] as CheckpointRecord).version);
      expect(after.every((r) => r.verified)).toBe(true);
    });
  });

  it('fails with CHECKPOINT_NOT_FOUND listing the kept ids for an unknown id, and leaves the store closed', async () => {
    const history = await original();
    const { pipeline } = whatIfPipeline(dir, events(COUNT), { version: 2 });
    const error = await pipeline.start({ from: 'no-such-checkpoint' }).catch((e: unknown) => e);
    expect(isSteadfastError(error, 'CHECKPOINT_NOT_FOUND')).toBe(true);
    for (const record of history) expect((error as Error).message).toContain(record.checkpointId);
    await expect(pipeline.done).rejects.toBe(error);
    // Released: another store can open the directory.
    await withStore(async (store) => expect((await checkpointHistory(store, 'orders')).length).toBe(history.length));
  });

  it('fails with CHECKPOINT_CORRUPT naming the bad snapshot, rather than falling back to another checkpoint', async () => {
    const history = await original();
    const from = history[1] as CheckpointRecord;
    const key = `ckpt!orders!tally!${String(from.version).padStart(16, '0')}`;
    await withStore(async (store) => {
      const [raw] = await rawOf(store, key);
      const bytes = (raw as RawEntry).value.slice();
      bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 1;
      await store.putRaw(key, bytes);
    });
    const { pipeline, sink } = whatIfPipeline(dir, events(COUNT), { version: 2 });
    const error = await pipeline.start({ from: from.checkpointId }).catch((e: unknown) => e);
    expect(isSteadfastError(error, 'CHECKPOINT_CORRUPT')).toBe(true);
    expect((error as Error).message).toContain(key);
    expect((error as Error).message).toMatch(/checksum mismatch/);
    expect(sink.items).toEqual([]);
  });

  it('refuses a from without the checkpoint option, and an id that is not a name', async () => {
    const plain = createPipeline({ name: 'p', source: fromIterable([1]), stages: [defineStage({ name: 's', process: (e: number) => ({ emit: [e] }) })], sink: toArray(), logLevel: 'silent' });
    const error = await plain.start({ from: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'options.from' });
    expect(plain.status).toBe('created');
    const { pipeline } = whatIfPipeline(dir, events(1), { version: 1 });
    await expect(pipeline.start({ from: 42 as unknown as string })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'from' });
    await expect(pipeline.start({ until: 'x' } as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'options.until' });
    // Still startable after a refused option.
    await pipeline.run();
  });
});

describe('openAndFindRestorePoint with from', () => {
  it('refuses to branch in place when the push journal holds events of the newer timeline', async () => {
    await withStore(async (store) => {
      await store.open();
      for (const v of [1, 2]) await store.writeSnapshot(snapshot(v));
      await store.completeCheckpoint(done(1, 'cp-1'));
      await store.completeCheckpoint(done(2, 'cp-2'));
      await store.appendJournal('orders', ['late'], [30]);
      const error = await openAndFindRestorePoint(store, 'orders', ['enrich'], { repairOnCorruption: false, from: 'cp-1' }).catch((e: unknown) => e);
      expect(isSteadfastError(error, 'CHECKPOINT_FROM_REFUSED')).toBe(true);
      expect((error as Error).message).toContain('checkpoints fork');
      // The newest needs no branch: it restores.
      const found = await openAndFindRestorePoint(store, 'orders', ['enrich'], { repairOnCorruption: false, from: 'cp-2' });
      expect(found.point?.done.checkpointId).toBe('cp-2');
      expect(found.point?.states.get('enrich')).toEqual({ count: 2 });
    });
  });

  it('makes pruning spare what existed: versions up to the newest stay while the store is open', async () => {
    const store = createCheckpointStore();
    for (const v of [1, 2, 3]) await store.writeSnapshot(snapshot(v));
    for (const v of [1, 2, 3]) await store.completeCheckpoint(done(v, `cp-${v}`));
    const found = await openAndFindRestorePoint(store, 'orders', ['enrich'], { repairOnCorruption: false, from: 'cp-1' });
    expect(found.maxVersion).toBe(3);
    await store.writeSnapshot(snapshot(4), { pruneBelow: 4 });
    await store.writeSnapshot(snapshot(5), { pruneBelow: 5 });
    await store.completeCheckpoint(done(5, 'cp-5'), { pruneBelow: 5 });
    expect((await collect(store.snapshots('orders', 'enrich'))).map((r) => r.key.slice(-1))).toEqual(['5', '3', '2', '1']);
    expect((await collect(store.completed('orders'))).map((r) => r.key)).toEqual(['done!orders!cp-5', 'done!orders!cp-3', 'done!orders!cp-2', 'done!orders!cp-1']);
    await store.close();
  });
});
