import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { forkStore } from '../../src/checkpoint/fork-store.js';
import { checkpointHistory } from '../../src/checkpoint/history.js';
import { findRestorePoint } from '../../src/checkpoint/restore.js';
import type { CheckpointStore, CompletedCheckpoint, RawEntry } from '../../src/checkpoint/types.js';
import { collect, letter, snapshot } from './store-conformance.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-fork-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const marker = (version: number, offset: number, createdAt: number): CompletedCheckpoint => ({ pipeline: 'orders', checkpointId: `cp-${version}`, version, offset, createdAt, stages: ['enrich', 'count'] });

/** Checkpoints 1 (offset 10, t=1000) and 2 (offset 20, t=2000) of enrich and count, journal entries and dead letters. */
async function source(journal: Array<[number, number]>): Promise<CheckpointStore> {
  const store = createCheckpointStore();
  for (const [version, offset] of [[1, 10], [2, 20]] as const) {
    await store.writeSnapshot(snapshot(version, { offset, checkpointId: `cp-${version}` }));
    await store.writeSnapshot(snapshot(version, { stage: 'count', offset, checkpointId: `cp-${version}`, state: { total: version } }));
    await store.completeCheckpoint(marker(version, offset, version * 1000));
  }
  for (const [first, last] of journal) {
    const offsets = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    await store.appendJournal('orders', offsets.map((o) => ({ pushed: o })), offsets);
  }
  await store.putDeadLetters([letter(5, { at: 900 }), letter(8, { at: 1500 }), letter(15, { at: 1200 })]);
  // Another pipeline in the same store stays behind.
  await store.writeSnapshot(snapshot(1, { pipeline: 'other' }));
  return store;
}

const keysOf = (entries: RawEntry[]): string[] => entries.map((e) => e.key);

describe('forkStore', () => {
  it('copies the checkpoint byte for byte, the journal after its offset and the dead letters as of then', async () => {
    const from = await source([[11, 15], [16, 20], [21, 25]]);
    const to = join(root, 'fork');
    const report = await forkStore({ from, pipeline: 'orders', at: 'cp-1', to });
    expect(report).toMatchObject({ location: to, checkpoint: marker(1, 10, 1000), snapshots: 2, journal: 3, deadLetters: 1 });
    expect(report.journalGap).toBeUndefined();
    const original = new Map((await collect(from.entries())).map((e) => [e.key, e.value]));

    const fork = createCheckpointStore({ dir: to });
    try {
      const entries = await collect(fork.entries());
      expect(keysOf(entries)).toEqual([
        'ckpt!orders!count!0000000000000001',
        'ckpt!orders!enrich!0000000000000001',
        'dlq!orders!enrich!0000000000000005',
        'done!orders!cp-1',
        'journal!orders!0000000000000015',
        'journal!orders!0000000000000020',
        'journal!orders!0000000000000025',
      ]);
      for (const entry of entries) if (!entry.key.startsWith('done!')) expect(Buffer.from(entry.value).equals(original.get(entry.key) as Uint8Array), entry.key).toBe(true);
      expect(report.bytes).toBe(entries.filter((e) => e.key.startsWith('ckpt!')).reduce((n, e) => n + e.value.length, 0));
      const [record] = await checkpointHistory(fork, 'orders');
      expect(record).toMatchObject({ checkpointId: 'cp-1', version: 1, offset: 10, verified: true, bytes: report.bytes });
      // A restore on the fork finds it.
      const found = await findRestorePoint(fork, 'orders', ['enrich', 'count']);
      expect(found.point?.done).toEqual(marker(1, 10, 1000));
      expect(found.point?.states).toEqual(new Map<string, unknown>([['enrich', { count: 1 }], ['count', { total: 1 }]]));
      expect(found.corrupt).toEqual([]);
    } finally {
      await fork.close();
    }
    // The source is as it was.
    expect(new Map((await collect(from.entries())).map((e) => [e.key, e.value]))).toEqual(original);
    await from.close();
  });

  it('reports the pushes between the checkpoint and the first journal entry left, which a run on the fork cannot replay', async () => {
    const from = await source([[21, 25]]);
    const report = await forkStore({ from, pipeline: 'orders', at: 'cp-1', to: join(root, 'gap') });
    expect(report.journalGap).toEqual({ from: 11, to: 20 });
    expect((await forkStore({ from, pipeline: 'orders', at: 'cp-2', to: join(root, 'nogap') })).journalGap).toBeUndefined();
    await from.close();
  });

  it('refuses an unknown checkpoint, a snapshot missing, and a directory that is not empty, creating nothing', async () => {
    const from = await source([]);
    await expect(forkStore({ from, pipeline: 'orders', at: 'cp-9', to: join(root, 'a') })).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND', message: expect.stringContaining('it keeps cp-2 (version 2), cp-1 (version 1)') });
    await from.deleteKeys(['ckpt!orders!count!0000000000000002']);
    await expect(forkStore({ from, pipeline: 'orders', at: 'cp-2', to: join(root, 'b') })).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      message: 'cannot fork checkpoint "cp-2" (version 2) of pipeline "orders": ckpt!orders!count!0000000000000002: snapshot missing',
    });
    await forkStore({ from, pipeline: 'orders', at: 'cp-1', to: join(root, 'c') });
    await expect(forkStore({ from, pipeline: 'orders', at: 'cp-1', to: join(root, 'c') })).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_NOT_EMPTY' });
    await expect(collect(createCheckpointStore({ dir: join(root, 'a'), readOnly: true }).entries())).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_MISSING' });
    await from.close();
  });

  it('refuses a target inside the store it forks', async () => {
    const dir = join(root, 'level');
    const from = createCheckpointStore({ dir });
    await from.writeSnapshot(snapshot(1));
    await from.completeCheckpoint({ ...marker(1, 9, 1), stages: ['enrich'] });
    await expect(forkStore({ from, pipeline: 'orders', at: 'cp-1', to: join(dir, 'inner') })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'to' });
    await expect(forkStore({ from, pipeline: 'orders', at: 'cp-1', to: dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'to' });
    await from.close();
  });
});
