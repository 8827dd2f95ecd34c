import { afterEach, describe, expect, it } from 'vitest';
import { KvCheckpointStore } from '../../src/checkpoint/checkpoint-store.js';
import type { KvOp } from '../../src/checkpoint/kv.js';
import { MemoryBackend } from '../../src/checkpoint/memory-store.js';
import { done, letter, rejection, snapshot } from './store-conformance.js';

/** A memory backend that records every batch it is given, and can be told to fail the next one. */
class RecordingBackend extends MemoryBackend {
  readonly batches: Array<{ ops: Array<{ type: string; key: string }>; sync: boolean }> = [];
  failNext: Error | undefined;

  override async write(ops: readonly KvOp[], sync: boolean): Promise<void> {
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.batches.push({ ops: ops.map(({ type, key }) => ({ type, key })), sync });
    await super.write(ops, sync);
  }
}

describe('KvCheckpointStore batches', () => {
  let store: KvCheckpointStore | undefined;
  afterEach(async () => {
    await store?.close();
  });
  const make = (backend: RecordingBackend): KvCheckpointStore => {
    store = new KvCheckpointStore(backend, { codec: 'json', readOnly: false, decodeV8: true });
    return store;
  };

  it('writes a snapshot, its meta record and the pruning of older versions as one batch, with sync passed on', async () => {
    const backend = new RecordingBackend();
    const s = make(backend);
    for (const v of [1, 2, 3]) await s.writeSnapshot(snapshot(v));
    backend.batches.length = 0;
    await s.writeSnapshot(snapshot(4), { sync: true, pruneBelow: 3 });
    expect(backend.batches).toEqual([
      {
        sync: true,
        ops: [
          { type: 'put', key: 'ckpt!orders!enrich!0000000000000004' },
          { type: 'put', key: 'meta!orders!enrich' },
          { type: 'del', key: 'ckpt!orders!enrich!0000000000000001' },
          { type: 'del', key: 'ckpt!orders!enrich!0000000000000002' },
        ],
      },
    ]);
  });

  it('records a completed checkpoint and prunes older markers in one batch', async () => {
    const backend = new RecordingBackend();
    const s = make(backend);
    await s.completeCheckpoint(done(1, 'x'));
    await s.completeCheckpoint(done(2, 'y'));
    backend.batches.length = 0;
    await s.completeCheckpoint(done(3, 'z'), { pruneBelow: 3, sync: true });
    expect(backend.batches).toEqual([
      { sync: true, ops: [{ type: 'put', key: 'done!orders!z' }, { type: 'del', key: 'done!orders!y' }, { type: 'del', key: 'done!orders!x' }] },
    ]);
  });

  it('leaves everything as it was when the batch fails, and reports CHECKPOINT_STORE_FAILED with the cause', async () => {
    const backend = new RecordingBackend();
    const s = make(backend);
    for (const v of [1, 2]) await s.writeSnapshot(snapshot(v));
    const cause = new Error('disk full');
    backend.failNext = cause;
    const error = await rejection(() => s.writeSnapshot(snapshot(3), { pruneBelow: 3 }), 'CHECKPOINT_STORE_FAILED');
    expect(error.message).toBe('checkpoint store at memory: writeSnapshot failed: disk full');
    expect(error.cause).toBe(cause);
    expect(await s.readSnapshot('orders', 'enrich', 1)).toMatchObject({ ok: true });
    expect(await s.readSnapshot('orders', 'enrich', 3)).toBeUndefined();
    // the next write is not stuck behind the failed one
    await s.putDeadLetter(letter(1));
    expect((await s.deadLetters()).length).toBe(1);
  });

  it('marks several letters for replay in one batch', async () => {
    const backend = new RecordingBackend();
    const s = make(backend);
    const keys = [(await s.putDeadLetter(letter(1))).key, (await s.putDeadLetter(letter(2))).key];
    backend.batches.length = 0;
    await s.markForReplay(keys);
    expect(backend.batches.map((b) => b.ops.map((op) => op.key))).toEqual([keys]);
  });
});
