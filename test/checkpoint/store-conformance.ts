// The behaviour every checkpoint store backend must show; run by level-store.test.ts and memory-store.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointStoreError, ConfigError, isSteadfastError } from '../../src/core/errors.js';
import type { SteadfastErrorCode } from '../../src/core/errors.js';
import { V8_NOT_TRUSTED } from '../../src/checkpoint/envelope.js';
import type { CheckpointStore, CodecName, CompletedCheckpoint, DeadLetter, ReadResult, Snapshot } from '../../src/checkpoint/types.js';

/** Options a harness must honour when it makes a store. */
export interface HarnessOptions {
  codec?: CodecName;
  readOnly?: boolean;
  decodeV8?: boolean;
}

/** Makes a fresh, empty store (a readOnly one over an existing, empty database); the suite closes it. */
export type StoreFactory = (options?: HarnessOptions) => Promise<CheckpointStore>;

/** A snapshot of `orders`/`enrich` unless told otherwise. */
export function snapshot(version: number, extra: Partial<Snapshot> = {}): Snapshot {
  return { pipeline: 'orders', stage: 'enrich', version, offset: version * 10 - 1, checkpointId: `cp-${version}`, createdAt: 1_700_000_000_000 + version, state: { count: version }, ...extra };
}

/** A completed checkpoint of `orders`. */
export function done(version: number, checkpointId: string): CompletedCheckpoint {
  return { pipeline: 'orders', checkpointId, version, offset: version * 10 - 1, createdAt: 1_700_000_000_000 + version, stages: ['enrich', 'count'] };
}

/** A dead letter of `orders`/`enrich` at `offset`. */
export function letter(offset: number, extra: Partial<DeadLetter> = {}): DeadLetter {
  return { pipeline: 'orders', stage: 'enrich', offset, event: { id: offset }, error: { name: 'TypeError', code: undefined, message: 'bad input' }, attempts: 3, at: 1_700_000_000_000, ...extra };
}

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Expects `run` to reject with a steadfast error of `code`, and returns it. */
export async function rejection(run: () => Promise<unknown>, code: SteadfastErrorCode): Promise<Error> {
  try {
    await run();
  } catch (error) {
    if (!isSteadfastError(error, code)) throw error;
    return error;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const versions = (reads: Array<ReadResult<Snapshot>>): number[] => reads.map((r) => (r.ok ? r.value.version : -1));
const flipBit = (bytes: Uint8Array, index: number): Uint8Array => {
  const copy = bytes.slice();
  copy[index] = (copy[index] as number) ^ 0x04;
  return copy;
};

/** Registers the conformance tests for one backend. */
export function describeStoreConformance(name: string, factory: StoreFactory): void {
  describe(`${name} checkpoint store (conformance)`, () => {
    const opened: CheckpointStore[] = [];
    const make = async (options?: HarnessOptions): Promise<CheckpointStore> => {
      const store = await factory(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it('reads a stage\'s snapshots newest version first, with the receipt\'s size and checksum', async () => {
      const store = await make();
      const receipts = new Map<number, { bytes: number; checksum: string; key: string }>();
      for (const v of [3, 1, 5, 2, 4]) receipts.set(v, await store.writeSnapshot(snapshot(v)));
      const reads = await collect(store.snapshots('orders', 'enrich'));
      expect(versions(reads)).toEqual([5, 4, 3, 2, 1]);
      for (const read of reads) {
        if (!read.ok) throw new Error(read.reason);
        expect(read.value).toEqual(snapshot(read.value.version));
        expect({ key: read.key, bytes: read.bytes, checksum: read.checksum }).toEqual(receipts.get(read.value.version));
      }
      expect(receipts.get(5)?.key).toBe('ckpt!orders!enrich!0000000000000005');
      expect(receipts.get(5)?.checksum).toMatch(/^[0-9a-f]{16}$/);
    });

    it('keeps only the snapshot fields it knows, and an undefined state comes back undefined', async () => {
      const store = await make();
      await store.writeSnapshot({ ...snapshot(1), state: undefined, extra: 'dropped' } as Snapshot);
      const [read] = await collect(store.snapshots('orders', 'enrich'));
      expect(read?.ok && read.value.state).toBeUndefined();
      expect(read?.ok && 'extra' in read.value).toBe(false);
    });

    it('writes a meta! record of the newest snapshot in the same write, never moving it back to an older version', async () => {
      const store = await make();
      const receipt = await store.writeSnapshot(snapshot(2));
      await store.writeSnapshot(snapshot(1));
      const metas = await collect(store.entries('meta!'));
      expect(metas.map((e) => e.key)).toEqual(['meta!orders!enrich']);
      const text = Buffer.from(metas[0]?.value ?? []).toString('utf8');
      expect(text).toMatch(/^[0-9a-f]{16} json\n/);
      expect(JSON.parse(text.slice(text.indexOf('\n') + 1))).toEqual({ version: 2, key: receipt.key, checksum: receipt.checksum, bytes: receipt.bytes, createdAt: snapshot(2).createdAt, offset: 19 });
    });

    it('prunes this stage\'s versions below pruneBelow with the write, leaving other stages and the written version alone', async () => {
      const store = await make();
      for (const v of [1, 2, 3]) await store.writeSnapshot(snapshot(v));
      await store.writeSnapshot(snapshot(1, { stage: 'count' }));
      await store.writeSnapshot(snapshot(4), { pruneBelow: 3, sync: true });
      expect(versions(await collect(store.snapshots('orders', 'enrich')))).toEqual([4, 3]);
      expect(versions(await collect(store.snapshots('orders', 'count')))).toEqual([1]);
      await store.writeSnapshot(snapshot(2, { stage: 'count' }), { pruneBelow: 9 });
      expect(versions(await collect(store.snapshots('orders', 'count')))).toEqual([2]);
    });

    it('reads one version by number, undefined when absent', async () => {
      const store = await make();
      await store.writeSnapshot(snapshot(7));
      expect(await store.readSnapshot('orders', 'enrich', 7)).toMatchObject({ ok: true, value: snapshot(7) });
      expect(await store.readSnapshot('orders', 'enrich', 8)).toBeUndefined();
      expect(await store.readSnapshot('orders', 'other', 7)).toBeUndefined();
    });

    it('lists completed checkpoints newest version first whatever their ids, pruning older markers with the write', async () => {
      const store = await make();
      await store.completeCheckpoint(done(1, 'zzz'));
      await store.completeCheckpoint(done(3, 'aaa'));
      await store.completeCheckpoint(done(2, 'mmm'));
      const reads = await collect(store.completed('orders'));
      expect(reads.map((r) => r.ok && r.value.checkpointId)).toEqual(['aaa', 'mmm', 'zzz']);
      expect(reads[0]).toMatchObject({ ok: true, key: 'done!orders!aaa', value: done(3, 'aaa') });
      await store.completeCheckpoint(done(4, 'bbb'), { pruneBelow: 3, sync: true });
      expect((await collect(store.completed('orders'))).map((r) => r.ok && r.value.version)).toEqual([4, 3]);
      expect(await collect(store.completed('other'))).toEqual([]);
    });

    it('prunes the snapshots of the stages a completed checkpoint lists with its older markers, in the same batch', async () => {
      const store = await make();
      for (const v of [1, 2, 3]) {
        await store.writeSnapshot(snapshot(v));
        await store.writeSnapshot(snapshot(v, { stage: 'count' }));
        await store.completeCheckpoint({ ...done(v, `c${v}`), stages: ['enrich', 'count'] });
      }
      await store.writeSnapshot(snapshot(1, { stage: 'unlisted' }));
      await store.completeCheckpoint({ ...done(4, 'c4'), stages: ['enrich'] }, { pruneBelow: 3 });
      const versions = async (stage: string) => (await collect(store.snapshots('orders', stage))).map((r) => r.ok && r.value.version);
      expect(await versions('enrich')).toEqual([3]);
      // Not listed in the new checkpoint: its snapshots stay (they may belong to another stage's checkpoints).
      expect(await versions('count')).toEqual([3, 2, 1]);
      expect(await versions('unlisted')).toEqual([1]);
      expect((await collect(store.completed('orders'))).map((r) => r.ok && r.value.version)).toEqual([4, 3]);
    });

    it('journals push-source events as one entry per append under its last offset, and prunes the entries a checkpoint covers whole', async () => {
      const store = await make();
      await store.appendJournal('orders', [{ id: 'a' }, { id: 'b' }], [9, 10]);
      await store.appendJournal('orders', [{ id: 'c' }, { id: 'd' }], [11, 12], { sync: true });
      await store.appendJournal('other', ['x'], [0]);
      const reads = await collect(store.journal('orders'));
      expect(reads.map((r) => r.ok && [r.value.offset, r.value.events])).toEqual([
        [9, [{ id: 'a' }, { id: 'b' }]],
        [11, [{ id: 'c' }, { id: 'd' }]],
      ]);
      expect(reads[0]).toMatchObject({ ok: true, key: 'journal!orders!0000000000000010' });
      // Through 11: the first entry is covered whole, the second (11, 12) is not and stays.
      expect(await store.pruneJournal('orders', 11)).toBe(1);
      expect((await collect(store.journal('orders'))).map((r) => r.ok && r.value.offset)).toEqual([11]);
      expect((await collect(store.journal('other'))).length).toBe(1);
      await store.putRaw('journal!orders!0000000000000020', new TextEncoder().encode('garbage'));
      const last = (await collect(store.journal('orders'))).at(-1);
      expect(last).toMatchObject({ ok: false, key: 'journal!orders!0000000000000020' });
      await expect(store.appendJournal('orders', ['one'], [1, 2])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(store.appendJournal('orders', ['one', 'two'], [1, 3])).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'offsets[1]' });
      await expect(store.appendJournal('orders', [], [])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    });

    it('stores a batch of dead letters in one write, keeping letters of one offset apart with suffixes', async () => {
      const store = await make();
      await store.putDeadLetter(letter(7));
      const receipts = await store.putDeadLetters([letter(7, { attempts: 1 }), letter(3), letter(7, { attempts: 2 }), letter(3, { attempts: 4 })]);
      expect(receipts.map((r) => r.key)).toEqual(['dlq!orders!enrich!0000000000000007~1', 'dlq!orders!enrich!0000000000000003', 'dlq!orders!enrich!0000000000000007~2', 'dlq!orders!enrich!0000000000000003~1']);
      const stored = await store.deadLetters('orders');
      expect(stored.map((r) => r.ok && [r.value.offset, r.value.attempts])).toEqual([
        [3, 3],
        [3, 4],
        [7, 3],
        [7, 1],
        [7, 2],
      ]);
      await expect(store.putDeadLetters('nope' as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      expect(await store.putDeadLetters([])).toEqual([]);
    });

    it('lists an unreadable done marker after the good ones and never prunes it', async () => {
      const store = await make();
      await store.completeCheckpoint(done(1, 'a'));
      await store.putRaw('done!orders!broken', new TextEncoder().encode('garbage'));
      await store.completeCheckpoint(done(5, 'b'), { pruneBelow: 5 });
      const reads = await collect(store.completed('orders'));
      expect(reads.map((r) => r.key)).toEqual(['done!orders!b', 'done!orders!broken']);
      expect(reads[1]).toEqual({ ok: false, key: 'done!orders!broken', reason: expect.stringMatching(/^bad header/) });
    });

    it('stores dead letters by offset, with ~1, ~2 for more letters at one offset, in key order', async () => {
      const store = await make();
      const keys = [];
      for (const l of [letter(7), letter(7, { attempts: 1 }), letter(3), letter(7, { attempts: 2 }), letter(1, { pipeline: 'other' })]) keys.push((await store.putDeadLetter(l)).key);
      expect(keys).toEqual([
        'dlq!orders!enrich!0000000000000007',
        'dlq!orders!enrich!0000000000000007~1',
        'dlq!orders!enrich!0000000000000003',
        'dlq!orders!enrich!0000000000000007~2',
        'dlq!other!enrich!0000000000000001',
      ]);
      const mine = await store.deadLetters('orders');
      expect(mine.map((r) => r.key)).toEqual([keys[2], keys[0], keys[1], keys[3]]);
      expect(mine[2]).toMatchObject({ ok: true, value: { ...letter(7, { attempts: 1 }), key: keys[1] } });
      expect((await store.deadLetters()).length).toBe(5);
    });

    it('keeps concurrent letters at one offset apart', async () => {
      const store = await make();
      const receipts = await Promise.all([1, 2, 3, 4].map((attempts) => store.putDeadLetter(letter(9, { attempts }))));
      expect(new Set(receipts.map((r) => r.key)).size).toBe(4);
      expect((await store.deadLetters('orders')).map((r) => r.ok && r.value.attempts).sort()).toEqual([1, 2, 3, 4]);
    });

    it('marks dead letters for replay, leaving the others as they were', async () => {
      const store = await make();
      const a = await store.putDeadLetter(letter(1));
      const b = await store.putDeadLetter(letter(2));
      await store.markForReplay([a.key]);
      const [first, second] = await store.deadLetters('orders');
      expect(first).toMatchObject({ ok: true, value: { replay: true, offset: 1, event: { id: 1 } } });
      expect(second?.ok && second.value.replay).toBeUndefined();
      expect(second?.key).toBe(b.key);
    });

    it('refuses to mark keys that are not dead letters, or are missing, marking none of the batch', async () => {
      const store = await make();
      const a = await store.putDeadLetter(letter(1));
      await expect(store.markForReplay(['ckpt!orders!enrich!0000000000000001'])).rejects.toBeInstanceOf(ConfigError);
      await rejection(() => store.markForReplay([a.key, 'dlq!orders!enrich!0000000000000099']), 'CHECKPOINT_STORE_FAILED');
      const [first] = await store.deadLetters();
      expect(first?.ok && first.value.replay).toBeUndefined();
    });

    it('deletes entries by key', async () => {
      const store = await make();
      const a = await store.putDeadLetter(letter(1));
      const s = await store.writeSnapshot(snapshot(1));
      await store.deleteKeys([a.key, s.key, 'dlq!never!written!0000000000000001'], { sync: true });
      expect(await store.deadLetters()).toEqual([]);
      expect(await store.readSnapshot('orders', 'enrich', 1)).toBeUndefined();
    });

    it('lists pipelines and their stages in key order', async () => {
      const store = await make();
      expect(await store.pipelines()).toEqual([]);
      await store.writeSnapshot(snapshot(1, { pipeline: 'b', stage: 'y' }));
      await store.writeSnapshot(snapshot(1, { pipeline: 'a', stage: 'z' }));
      await store.writeSnapshot(snapshot(2, { pipeline: 'a', stage: 'z' }));
      await store.writeSnapshot(snapshot(1, { pipeline: 'a', stage: 'x#1' }));
      await store.writeSnapshot(snapshot(1, { pipeline: 'a!b', stage: 'q' }));
      await store.putDeadLetter(letter(1, { pipeline: 'dlq-only' }));
      expect(await store.pipelines()).toEqual([
        { pipeline: 'a', stages: ['x#1', 'z'] },
        { pipeline: 'a!b', stages: ['q'] },
        { pipeline: 'b', stages: ['y'] },
      ]);
    });

    it('lists raw entries under a prefix, or all, in key order', async () => {
      const store = await make();
      await store.writeSnapshot(snapshot(1));
      await store.completeCheckpoint(done(1, 'c'));
      await store.putDeadLetter(letter(1));
      expect((await collect(store.entries())).map((e) => e.key)).toEqual(['ckpt!orders!enrich!0000000000000001', 'dlq!orders!enrich!0000000000000001', 'done!orders!c', 'meta!orders!enrich']);
      expect((await collect(store.entries('d'))).map((e) => e.key)).toEqual(['dlq!orders!enrich!0000000000000001', 'done!orders!c']);
      expect(await collect(store.entries('zzz'))).toEqual([]);
    });

    it('reports a flipped bit as a failed read naming the key, and still reads the older snapshot', async () => {
      const store = await make();
      await store.writeSnapshot(snapshot(1));
      const newest = await store.writeSnapshot(snapshot(2));
      const [raw] = await collect(store.entries(newest.key));
      await store.putRaw(newest.key, flipBit(raw?.value ?? new Uint8Array(), 40));
      const reads = await collect(store.snapshots('orders', 'enrich'));
      expect(reads[0]).toEqual({ ok: false, key: newest.key, reason: expect.stringMatching(/^checksum mismatch: expected [0-9a-f]{16}, actual [0-9a-f]{16}$/) });
      expect(reads[1]).toMatchObject({ ok: true, value: snapshot(1) });
      expect(await store.readSnapshot('orders', 'enrich', 2)).toMatchObject({ ok: false, key: newest.key });
    });

    it('reports a snapshot stored under another version\'s key', async () => {
      const store = await make();
      const first = await store.writeSnapshot(snapshot(1));
      const [raw] = await collect(store.entries(first.key));
      await store.putRaw('ckpt!orders!enrich!0000000000000009', raw?.value ?? new Uint8Array());
      expect(await store.readSnapshot('orders', 'enrich', 9)).toEqual({ ok: false, key: 'ckpt!orders!enrich!0000000000000009', reason: 'holds version 1, its key names 9' });
    });

    it('returns copies: changing bytes read back does not change the store', async () => {
      const store = await make();
      const receipt = await store.writeSnapshot(snapshot(1));
      const [raw] = await collect(store.entries(receipt.key));
      raw?.value.fill(0);
      expect(await store.readSnapshot('orders', 'enrich', 1)).toMatchObject({ ok: true });
    });

    it('round-trips snapshots and dead letters through the json codec, done and meta records too', async () => {
      const store = await make({ codec: 'json' });
      expect(store.codec).toBe('json');
      await store.writeSnapshot(snapshot(1, { state: { nested: [1, 'two', null, { deep: true }] } }));
      expect(await store.readSnapshot('orders', 'enrich', 1)).toMatchObject({ ok: true, value: { state: { nested: [1, 'two', null, { deep: true }] } } });
      for await (const entry of store.entries()) expect(Buffer.from(entry.value).toString('latin1', 16, 22)).toBe(' json\n');
    });

    it('keeps BigInts, Maps, Sets and dates through the json codec, and reports what it left out', async () => {
      const store = await make({ codec: 'json' });
      const state = { big: 2n ** 64n, seen: new Map([['a', new Set([1])]]), at: new Date(0), cb: () => 1 };
      const receipt = await store.writeSnapshot(snapshot(1, { state }));
      expect(receipt.losses).toEqual([{ kind: 'function', path: 'state.cb', detail: 'function cb left out' }]);
      const read = await store.readSnapshot('orders', 'enrich', 1);
      expect(read?.ok && read.value.state).toEqual({ big: 2n ** 64n, seen: new Map([['a', new Set([1])]]), at: new Date(0) });
      expect((await store.writeSnapshot(snapshot(2))).losses).toBeUndefined();
    });

    it('round-trips BigInts, Maps and cycles through the v8 codec, keeping done and meta records json', async () => {
      const store = await make({ codec: 'v8' });
      const state: Record<string, unknown> = { big: 2n ** 64n, seen: new Map([['a', 1]]) };
      state.self = state;
      await store.writeSnapshot(snapshot(1, { state }));
      await store.completeCheckpoint(done(1, 'c'));
      await store.putDeadLetter(letter(1, { event: { id: 10n } }));
      const read = await store.readSnapshot('orders', 'enrich', 1);
      const got = read?.ok ? (read.value.state as Record<string, unknown>) : {};
      expect(got.big).toBe(2n ** 64n);
      expect(got.seen).toEqual(new Map([['a', 1]]));
      expect(got.self).toBe(got);
      expect((await store.deadLetters())[0]).toMatchObject({ ok: true, value: { event: { id: 10n } } });
      const headers = new Map<string, string>();
      for await (const entry of store.entries()) headers.set(entry.key.split('!')[0] as string, Buffer.from(entry.value).toString('latin1', 17, 22));
      expect([...headers.keys()]).toEqual(['ckpt', 'dlq', 'done', 'meta']);
      expect(headers.get('ckpt')?.startsWith('v8\n')).toBe(true);
      expect(headers.get('dlq')?.startsWith('v8\n')).toBe(true);
      expect(headers.get('done')).toBe('json\n');
      expect(headers.get('meta')).toBe('json\n');
    });

    it('fails with CHECKPOINT_ENCODE_FAILED, writing nothing, for a state its codec cannot encode', async () => {
      const store = await make({ codec: 'json' });
      await store.writeSnapshot(snapshot(1));
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const error = await rejection(() => store.writeSnapshot(snapshot(2, { state: cyclic }), { pruneBelow: 2 }), 'CHECKPOINT_ENCODE_FAILED');
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect(error.message).toMatch(/circular reference at state\.self/);
      expect((error as CheckpointStoreError).location).toBe(store.location);
      expect(error.message).toContain('ckpt!orders!enrich!0000000000000002');
      expect(versions(await collect(store.snapshots('orders', 'enrich')))).toEqual([1]);
    });

    it('does not decode v8 payloads when told not to, reporting them as failed reads', async () => {
      const writer = await make({ codec: 'v8' });
      await writer.writeSnapshot(snapshot(1));
      const [raw] = await collect(writer.entries('ckpt!'));
      const reader = await make({ decodeV8: false });
      await reader.putRaw(raw?.key ?? '', raw?.value ?? new Uint8Array());
      expect(await reader.readSnapshot('orders', 'enrich', 1)).toEqual({ ok: false, key: raw?.key, reason: V8_NOT_TRUSTED });
    });

    it('opens on first use, reports isOpen, and closes idempotently', async () => {
      const store = await make();
      expect(store.isOpen).toBe(false);
      await store.writeSnapshot(snapshot(1));
      expect(store.isOpen).toBe(true);
      await store.open();
      await Promise.all([store.close(), store.close()]);
      await store.close();
      expect(store.isOpen).toBe(false);
    });

    it('finishes the writes in flight before closing', async () => {
      const store = await make();
      await store.open();
      const writes = [1, 2, 3].map((v) => store.writeSnapshot(snapshot(v)));
      await store.close();
      await expect(Promise.all(writes)).resolves.toHaveLength(3);
    });

    it('fails every use after close with CHECKPOINT_STORE_CLOSED', async () => {
      const store = await make();
      await store.writeSnapshot(snapshot(1));
      await store.close();
      const error = await rejection(() => store.writeSnapshot(snapshot(2)), 'CHECKPOINT_STORE_CLOSED');
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect(error.message).toBe(`checkpoint store at ${store.location} is closed`);
      await rejection(() => store.open(), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => store.readSnapshot('orders', 'enrich', 1), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => collect(store.snapshots('orders', 'enrich')), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => collect(store.completed('orders')), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => store.deadLetters(), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => store.pipelines(), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => collect(store.entries()), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => store.putDeadLetter(letter(1)), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => store.deleteKeys(['x']), 'CHECKPOINT_STORE_CLOSED');
      await rejection(() => store.putRaw('x', new Uint8Array(1)), 'CHECKPOINT_STORE_CLOSED');
    });

    it('fails a scan still running when the store closes with CHECKPOINT_STORE_CLOSED', async () => {
      const store = await make();
      for (const v of [1, 2, 3]) await store.writeSnapshot(snapshot(v));
      const iterator = store.snapshots('orders', 'enrich')[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      await store.close();
      await rejection(() => iterator.next(), 'CHECKPOINT_STORE_CLOSED');
    });

    it('refuses bad names, numbers and options with CONFIG_INVALID naming the field', async () => {
      const store = await make();
      const field = async (run: () => Promise<unknown>): Promise<string> => {
        const error = await rejection(run, 'CONFIG_INVALID');
        return (error as ConfigError).field;
      };
      expect(await field(() => store.writeSnapshot(snapshot(1, { pipeline: '' })))).toBe('snapshot.pipeline');
      expect(await field(() => store.writeSnapshot(snapshot(-1)))).toBe('snapshot.version');
      expect(await field(() => store.writeSnapshot(snapshot(1, { offset: -2 })))).toBe('snapshot.offset');
      expect(await field(() => store.writeSnapshot(snapshot(1, { createdAt: Number.NaN })))).toBe('snapshot.createdAt');
      expect(await field(() => store.writeSnapshot(snapshot(1), { pruneBelow: 1.5 }))).toBe('options.pruneBelow');
      expect(await field(() => store.writeSnapshot(snapshot(1), { sync: 'yes' } as never))).toBe('options.sync');
      expect(await field(() => store.writeSnapshot(snapshot(1), { prune: 3 } as never))).toBe('options.prune');
      expect(await field(() => store.completeCheckpoint({ ...done(1, 'c'), stages: 'enrich' } as never))).toBe('checkpoint.stages');
      expect(await field(() => store.putDeadLetter(letter(-1)))).toBe('deadLetter.offset');
      expect(await field(() => store.readSnapshot('orders', 'enrich', 2 ** 53))).toBe('version');
      expect(await field(() => collect(store.snapshots('orders', '')))).toBe('stage');
      expect(await field(() => store.deleteKeys('x' as never))).toBe('keys');
      expect(await collect(store.entries())).toEqual([]);
    });

    it('refuses every write when read-only', async () => {
      const store = await make({ readOnly: true });
      for (const write of [
        () => store.writeSnapshot(snapshot(1)),
        () => store.completeCheckpoint(done(1, 'c')),
        () => store.putDeadLetter(letter(1)),
        () => store.markForReplay([]),
        () => store.deleteKeys([]),
        () => store.putRaw('k', new Uint8Array(1)),
      ]) {
        expect((await rejection(write, 'CHECKPOINT_STORE_FAILED')).message).toMatch(/is read-only: \w+ refused$/);
      }
      expect(await store.pipelines()).toEqual([]);
    });
  });
}
