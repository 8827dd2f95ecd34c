// The checkpoint store over any ordered key-value backend: key formats, envelopes, atomic batches
// with pruning, and reads that report corrupt entries instead of throwing.
import { CheckpointStoreError, ConfigError } from '../core/errors.js';
import { deadLetterPrefix, doneKey, journalKey, journalPrefix, keyName, metaKey, parseKey, prefixEnd, snapshotKey, snapshotPrefix } from '../core/keys.js';
import { integerIn } from '../core/validate.js';
import { sealDeadLetter } from './dead-letter-codec.js';
import { DeadLetterKeys } from './dead-letter-keys.js';
import type { CodecLoss } from './json-tags.js';
import { V8_NOT_TRUSTED, unseal, type OpenOptions } from './envelope.js';
import type { KvBackend, KvOp } from './kv.js';
import { completedMarkers, decodeRecord, readRecord } from './record-read.js';
import { receiptOf, sealRecord } from './record-seal.js';
import { completedInput, deadLetterCheck, deadLetterInput, journalCheck, journalInput, keyList, metaProblem, storedDeadLetter, snapshotCheck, snapshotInput, writeOptionsInput } from './records.js';
import type { RecordCheck, SnapshotMeta } from './records.js';
import { SnapshotPruner } from './snapshot-pruner.js';
import { IntegrityWatch } from './store-integrity.js';
import { StoreLifecycle } from './store-lifecycle.js';
import type { CheckpointStore, CodecName, CompletedCheckpoint, DeadLetter, JournalEntry, RawEntry, ReadResult, RepairReport, Snapshot, StoreIntegrity, StoredDeadLetter, WriteOptions, WriteReceipt } from './types.js';

/** How a store encodes and what it may do. */
export interface StoreSettings {
  codec: CodecName;
  readOnly: boolean;
  /** Decode v8 payloads on read; false for a directory whose origin is not trusted. */
  decodeV8: boolean;
}

/** A {@link CheckpointStore} on a {@link KvBackend}; create one with `createCheckpointStore`. */
export class KvCheckpointStore implements CheckpointStore {
  readonly kind: 'level' | 'memory' | 'redis';
  readonly location: string;
  readonly codec: CodecName;
  readonly #backend: KvBackend;
  readonly #settings: StoreSettings;
  readonly #life: StoreLifecycle;
  /**
   * What this store knows it wrote while open (it holds the lock: nobody else writes meanwhile):
   * the newest meta version per stage, and (in the pruner) the version below which its snapshots
   * are pruned. They spare a snapshot write the read of its meta record and the scan for versions
   * to prune.
   */
  readonly #metaVersion = new Map<string, number>();
  readonly #pruner: SnapshotPruner;
  readonly #deadLetterKeys: DeadLetterKeys;
  // Writes run one at a time: pruning and dead-letter suffixes read before they write.
  #writes: Promise<unknown> = Promise.resolve();
  readonly #watch: IntegrityWatch;

  constructor(backend: KvBackend, settings: StoreSettings) {
    this.#backend = backend;
    this.#settings = settings;
    this.#life = new StoreLifecycle(backend);
    this.#watch = new IntegrityWatch(backend, this.#life);
    this.#pruner = new SnapshotPruner(backend);
    this.#deadLetterKeys = new DeadLetterKeys(backend);
    this.kind = backend.kind;
    this.location = backend.location;
    this.codec = settings.codec;
  }

  get isOpen(): boolean {
    return this.#life.isOpen;
  }

  open(): Promise<void> {
    this.#metaVersion.clear();
    this.#pruner.forget();
    this.#deadLetterKeys.forget();
    return this.#life.open();
  }

  close(): Promise<void> {
    return this.#life.close();
  }

  async writeSnapshot(snapshot: Snapshot, options?: WriteOptions): Promise<WriteReceipt> {
    const value = snapshotInput(snapshot);
    const { sync, pruneBelow } = writeOptionsInput(options);
    const key = snapshotKey(value.pipeline, value.stage, value.version);
    const losses: CodecLoss[] = [];
    const sealed = this.#seal(this.codec, value, key, losses);
    const receipt = receiptOf(key, sealed, losses);
    return this.#write('writeSnapshot', async () => {
      const ops: KvOp[] = [{ type: 'put', key, value: sealed }];
      const meta = metaKey(value.pipeline, value.stage);
      let known = this.#metaVersion.get(meta);
      if (known === undefined) {
        const current = await this.#read(meta, { codec: 'json' }, metaProblem);
        known = current !== undefined && current.ok ? (current.value as SnapshotMeta).version : -1;
      }
      if (known <= value.version) {
        const record: SnapshotMeta = { version: value.version, key, checksum: receipt.checksum, bytes: receipt.bytes, createdAt: value.createdAt, offset: value.offset };
        ops.push({ type: 'put', key: meta, value: this.#seal('json', record, meta) });
      }
      const pruned = await this.#pruner.prune(value.pipeline, value.stage, pruneBelow, ops, value.version);
      await this.#backend.write(ops, sync);
      this.#metaVersion.set(meta, Math.max(known, value.version));
      pruned();
      return receipt;
    });
  }

  async *snapshots(pipeline: string, stage: string): AsyncIterable<ReadResult<Snapshot>> {
    const prefix = snapshotPrefix(pipeline, stage);
    for await (const entry of this.#life.scan('snapshots', () => this.#backend.entries({ gte: prefix, lt: prefixEnd(prefix), reverse: true }))) {
      yield this.#decode<Snapshot>(entry, {}, snapshotCheck);
    }
  }

  async readSnapshot(pipeline: string, stage: string, version: number): Promise<ReadResult<Snapshot> | undefined> {
    const key = snapshotKey(pipeline, stage, version);
    return this.#life.run('readSnapshot', () => this.#read<Snapshot>(key, {}, snapshotCheck));
  }

  async completeCheckpoint(done: CompletedCheckpoint, options?: WriteOptions): Promise<WriteReceipt> {
    const value = completedInput(done);
    const { sync, pruneBelow } = writeOptionsInput(options);
    const key = doneKey(value.pipeline, value.checkpointId);
    const sealed = this.#seal('json', value, key);
    return this.#write('completeCheckpoint', async () => {
      const ops: KvOp[] = [{ type: 'put', key, value: sealed }];
      const pruned: Array<() => void> = [];
      if (pruneBelow !== undefined) {
        const retained = this.#pruner.retained(value.pipeline) ?? -1;
        for (const old of await this.#completedOf(value.pipeline)) {
          // An unreadable marker's version is unknown: it stays, for `verify` to report.
          if (old.ok && old.key !== key && old.value.version < pruneBelow && old.value.version > retained) ops.push({ type: 'del', key: old.key });
        }
        // The snapshots of the checkpoints that leave with their markers leave in the same batch.
        for (const stage of value.stages) pruned.push(await this.#pruner.prune(value.pipeline, stage, pruneBelow, ops));
      }
      await this.#backend.write(ops, sync);
      for (const remember of pruned) remember();
      await this.#watch.witness(value);
      return receiptOf(key, sealed);
    });
  }

  retainThrough(pipeline: string, version: number): void {
    keyName('pipeline', pipeline);
    this.#pruner.retain(pipeline, integerIn('version', version, 0));
  }

  integrity(pipeline?: string): Promise<StoreIntegrity> {
    return this.#watch.report(pipeline);
  }

  async repair(): Promise<RepairReport> {
    const report = await this.#watch.repair(this.#settings.readOnly);
    // What this store knew it had written may be gone: learn it again.
    this.#metaVersion.clear();
    this.#pruner.forget();
    return report;
  }

  async *completed(pipeline: string): AsyncIterable<ReadResult<CompletedCheckpoint>> {
    keyName('pipeline', pipeline);
    yield* await this.#life.run('completed', () => this.#completedOf(pipeline));
  }

  async putDeadLetter(letter: DeadLetter, options?: WriteOptions): Promise<WriteReceipt> {
    return (await this.putDeadLetters([letter], options))[0] as WriteReceipt;
  }

  async putDeadLetters(letters: readonly DeadLetter[], options?: WriteOptions): Promise<WriteReceipt[]> {
    if (!Array.isArray(letters)) throw new ConfigError('letters', letters, 'must be an array of dead letters');
    const values = letters.map((letter) => deadLetterInput(letter));
    const { sync } = writeOptionsInput(options);
    const sealed = values.map((value) => {
      const losses: CodecLoss[] = [];
      return { bytes: sealDeadLetter(this.codec, value, losses), losses };
    });
    return this.#write('putDeadLetters', async () => {
      const keys = await this.#deadLetterKeys.take(values);
      await this.#backend.write(
        keys.map((key, i) => ({ type: 'put' as const, key, value: (sealed[i] as { bytes: Uint8Array }).bytes })),
        sync,
      );
      return keys.map((key, i) => receiptOf(key, (sealed[i] as { bytes: Uint8Array }).bytes, (sealed[i] as { losses: CodecLoss[] }).losses));
    });
  }

  async deadLetters(pipeline?: string): Promise<Array<ReadResult<StoredDeadLetter>>> {
    const prefix = deadLetterPrefix(pipeline);
    const letters: Array<ReadResult<StoredDeadLetter>> = [];
    for await (const entry of this.#life.scan('deadLetters', () => this.#backend.entries({ gte: prefix, lt: prefixEnd(prefix) }))) {
      const read = this.#decode<DeadLetter>(entry, {}, deadLetterCheck);
      letters.push(read.ok ? { ...read, value: storedDeadLetter(read.value, read.key) } : read);
    }
    return letters;
  }

  async markForReplay(keys: readonly string[]): Promise<void> {
    const wanted = keyList('keys', keys);
    for (const [i, key] of wanted.entries()) {
      if (parseKey(key)?.kind !== 'dlq') throw new ConfigError(`keys[${i}]`, key, 'must be a dead-letter key (dlq!<pipeline>!<stage>!<offset>)');
    }
    await this.#write('markForReplay', async () => {
      const ops: KvOp[] = [];
      for (const key of wanted) {
        const bytes = await this.#backend.get(key);
        if (bytes === undefined) throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, `no dead letter under ${key}`);
        const read = this.#decode<DeadLetter>({ key, value: bytes }, {}, deadLetterCheck);
        if (!read.ok) {
          const code = read.reason === V8_NOT_TRUSTED ? 'CHECKPOINT_STORE_FAILED' : 'CHECKPOINT_CORRUPT';
          throw new CheckpointStoreError(code, this.location, `cannot mark ${key} for replay: ${read.reason}`);
        }
        const sealedAs = unseal(bytes);
        const codec = sealedAs.ok ? sealedAs.codec : this.codec;
        ops.push({ type: 'put', key, value: this.#seal(codec, { ...read.value, replay: true }, key) });
      }
      await this.#backend.write(ops, false);
    });
  }

  async deleteKeys(keys: readonly string[], options?: WriteOptions): Promise<void> {
    const doomed = keyList('keys', keys);
    const { sync } = writeOptionsInput(options);
    await this.#write('deleteKeys', () => this.#backend.write(doomed.map((key) => ({ type: 'del', key })), sync));
  }

  async appendJournal(pipeline: string, events: readonly unknown[], offsets: readonly number[], options?: WriteOptions): Promise<void> {
    const entry = journalInput(pipeline, events, offsets);
    const { sync } = writeOptionsInput(options);
    // One entry per append, keyed by its last offset: a prune through an offset deletes by key range.
    const key = journalKey(pipeline, entry.offset + entry.events.length - 1);
    const value = this.#seal(this.codec, entry, key);
    await this.#write('appendJournal', () => this.#backend.write([{ type: 'put', key, value }], sync));
  }

  async *journal(pipeline: string): AsyncIterable<ReadResult<JournalEntry>> {
    const prefix = journalPrefix(pipeline);
    for await (const entry of this.#life.scan('journal', () => this.#backend.entries({ gte: prefix, lt: prefixEnd(prefix) }))) {
      yield this.#decode<JournalEntry>(entry, {}, journalCheck);
    }
  }

  async pruneJournal(pipeline: string, throughOffset: number, options?: WriteOptions): Promise<number> {
    const prefix = journalPrefix(pipeline);
    const end = journalKey(pipeline, integerIn('throughOffset', throughOffset, -1) + 1);
    const { sync } = writeOptionsInput(options);
    return this.#write('pruneJournal', async () => {
      const ops: KvOp[] = [];
      for await (const key of this.#backend.keys({ gte: prefix, lt: end })) ops.push({ type: 'del', key });
      await this.#backend.write(ops, sync);
      return ops.length;
    });
  }

  async pipelines(): Promise<Array<{ pipeline: string; stages: string[] }>> {
    const found: Array<{ pipeline: string; stages: string[] }> = [];
    for await (const key of this.#life.scan('pipelines', () => this.#backend.keys({ gte: 'ckpt!', lt: prefixEnd('ckpt!') }))) {
      const parsed = parseKey(key);
      if (parsed?.kind !== 'ckpt') continue;
      const last = found.at(-1);
      if (last?.pipeline !== parsed.pipeline) found.push({ pipeline: parsed.pipeline, stages: [parsed.stage] });
      else if (last.stages.at(-1) !== parsed.stage) last.stages.push(parsed.stage);
    }
    return found;
  }

  async *entries(prefix?: string): AsyncIterable<RawEntry> {
    if (prefix !== undefined && typeof prefix !== 'string') throw new ConfigError('prefix', prefix, 'must be a string');
    const range = prefix === undefined || prefix === '' ? {} : { gte: prefix };
    for await (const entry of this.#life.scan('entries', () => this.#backend.entries(range))) {
      if (prefix !== undefined && !entry.key.startsWith(prefix)) return;
      yield entry;
    }
  }

  async putRaw(key: string, value: Uint8Array): Promise<void> {
    if (typeof key !== 'string' || key.length === 0) throw new ConfigError('key', key, 'must be a non-empty string');
    if (!(value instanceof Uint8Array)) throw new ConfigError('value', value, 'must be a Uint8Array');
    await this.#write('putRaw', () => this.#backend.write([{ type: 'put', key, value }], false));
  }

  #write<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.#settings.readOnly) {
      return Promise.reject(new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, `checkpoint store at ${this.location} is read-only: ${operation} refused`));
    }
    const previous = this.#writes;
    const result = this.#life.run(operation, async () => {
      await previous;
      return work();
    });
    this.#writes = result.catch(() => undefined);
    return result;
  }

  async #read<T>(key: string, options: OpenOptions, check: RecordCheck): Promise<ReadResult<T> | undefined> {
    return readRecord<T>(this.#backend, key, this.#settings.decodeV8, options, check);
  }

  #decode<T>(entry: RawEntry, options: OpenOptions, check: RecordCheck): ReadResult<T> {
    return decodeRecord<T>(entry, this.#settings.decodeV8, options, check);
  }

  #completedOf(pipeline: string): Promise<Array<ReadResult<CompletedCheckpoint>>> {
    return completedMarkers(this.#backend, pipeline, this.#settings.decodeV8);
  }

  #seal(codec: CodecName, value: unknown, key: string, losses?: CodecLoss[]): Uint8Array {
    return sealRecord(this.location, codec, value, key, losses);
  }
}
