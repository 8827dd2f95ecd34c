import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { WITNESS_FILE, readOpenDamage, readWitness } from '../../src/checkpoint/level-integrity.js';
import { resolveCheckpointOptions } from '../../src/checkpoint/options.js';
import { expectConfigError } from '../helpers/config-error.js';
import { collect, done, snapshot } from './store-conformance.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-integrity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('what LevelDB dropped while opening', () => {
  it('reads the "dropping" lines of LevelDB\'s LOG, in plain words, and nothing else', async () => {
    await writeFile(
      join(dir, 'LOG'),
      [
        '2026/01/01-10:00:00.000001 7f00 Recovering log #3',
        '2026/01/01-10:00:00.000002 7f00 (ignoring error) /data/ckpt/000003.log: dropping 1228 bytes; Corruption: checksum mismatch',
        '2026/01/01-10:00:00.000003 7f00 Level-0 table #5: started',
        '',
      ].join('\n'),
    );
    expect(await readOpenDamage(dir)).toEqual(['LevelDB dropped 1228 bytes of 000003.log while opening the store (Corruption: checksum mismatch)']);
    expect(await readOpenDamage(join(dir, 'absent'))).toEqual([]);
  });

  it('reports nothing for a sound store, and no witness before the first completed checkpoint', async () => {
    const store = createCheckpointStore({ dir });
    await store.writeSnapshot(snapshot(1));
    expect(await store.integrity?.('orders')).toEqual({ dropped: [], witnessed: undefined });
    await store.close();
  });
});

describe('the STEADFAST witness file', () => {
  it('holds the last completed checkpoint of each pipeline, rewritten at each one', async () => {
    const store = createCheckpointStore({ dir });
    await store.completeCheckpoint(done(1, 'cp-1'));
    await store.completeCheckpoint({ ...done(1, 'other-1'), pipeline: 'billing' });
    await store.completeCheckpoint(done(2, 'cp-2'));
    expect(await store.integrity?.('orders')).toEqual({ dropped: [], witnessed: { version: 2, checkpointId: 'cp-2', at: done(2, 'cp-2').createdAt } });
    await store.close();
    const witness = await readWitness(dir);
    expect(witness.pipelines).toEqual({
      orders: { version: 2, checkpointId: 'cp-2', at: done(2, 'cp-2').createdAt },
      billing: { version: 1, checkpointId: 'other-1', at: done(1, 'other-1').createdAt },
    });
    expect(JSON.parse(await readFile(join(dir, WITNESS_FILE), 'utf8'))).toMatchObject({ format: 'steadfast-witness/1' });
    // Read again by a new store on the directory.
    const again = createCheckpointStore({ dir, readOnly: true });
    expect((await again.integrity?.('billing'))?.witnessed?.version).toBe(1);
    await again.close();
  });

  it('says so when the witness file cannot be read, and rewrites it at the next checkpoint', async () => {
    const store = createCheckpointStore({ dir });
    await store.writeSnapshot(snapshot(1));
    await store.close();
    await writeFile(join(dir, WITNESS_FILE), '{ not json');
    const reopened = createCheckpointStore({ dir });
    expect(await reopened.integrity?.('orders')).toMatchObject({ witnessed: undefined, witnessProblem: expect.stringContaining('STEADFAST cannot be read') });
    await reopened.completeCheckpoint(done(3, 'cp-3'));
    expect(await reopened.integrity?.('orders')).toEqual({ dropped: [], witnessed: { version: 3, checkpointId: 'cp-3', at: done(3, 'cp-3').createdAt } });
    await reopened.close();
  });
});

describe('repair()', () => {
  it('repairs a sound store without losing anything, and operations called meanwhile wait for it', async () => {
    const store = createCheckpointStore({ dir });
    for (const v of [1, 2]) await store.writeSnapshot(snapshot(v));
    await store.completeCheckpoint(done(2, 'cp-2'));
    const repairing = store.repair?.();
    const reading = collect(store.entries('ckpt!'));
    const report = await repairing;
    expect(report).toMatchObject({ location: dir, log: expect.any(Array) });
    expect((await reading).map((e) => e.key)).toEqual(['ckpt!orders!enrich!0000000000000001', 'ckpt!orders!enrich!0000000000000002']);
    await store.writeSnapshot(snapshot(3));
    expect((await collect(store.snapshots('orders', 'enrich'))).map((r) => r.ok && r.value.version)).toEqual([3, 2, 1]);
    await store.close();
  });

  it('is refused for a memory store and a read-only one', async () => {
    const memory = createCheckpointStore({ kind: 'memory' });
    await expect(memory.repair?.()).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_FAILED', message: 'a memory store cannot be repaired' });
    expect(await memory.integrity?.('orders')).toEqual({ dropped: [], witnessed: undefined });
    await memory.close();
    const writer = createCheckpointStore({ dir });
    await writer.writeSnapshot(snapshot(1));
    await writer.close();
    const reader = createCheckpointStore({ dir, readOnly: true });
    await expect(reader.repair?.()).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_FAILED', message: expect.stringContaining('is read-only: repair refused') });
    await reader.close();
  });

  it('is asked for at start with checkpoint.repairOnCorruption, a boolean', () => {
    expect(resolveCheckpointOptions({ dir: 'x' }).repairOnCorruption).toBe(false);
    expect(resolveCheckpointOptions({ dir: 'x', repairOnCorruption: true }).repairOnCorruption).toBe(true);
    expectConfigError(() => resolveCheckpointOptions({ dir: 'x', repairOnCorruption: 'yes' }), 'pipeline.checkpoint.repairOnCorruption', 'yes', '"yes"');
  });
});
