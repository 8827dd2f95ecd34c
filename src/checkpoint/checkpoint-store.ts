// The checkpoint store over any ordered key-value backend: key formats, envelopes, atomic batches
// with pruning, and reads that report corrupt entries instead of throwing.
import { CheckpointStoreError, ConfigError, isSteadfastError, messageOf } from '../core/errors.js';
import {
  deadLetterKey,
  deadLetterPrefix,
  doneKey,
  donePrefix,
  journalKey,
  journalPrefix,
  keyName,
  metaKey,
  parseKey,
  prefixEnd,
  snapshotKey,
  snapshotPrefix,
} from '../core/keys.js';
import { integerIn } from '../core/validate.js';
import { codecOf } from './codec.js';
import { firstOfEachKind, sealDeadLetter } from './dead-letter-codec.js';
import type { CodecLoss } from './json-tags.js';
import { V8_NOT_TRUSTED, open, seal, storedChecksum, unseal } from './envelope.js';
import type { OpenOptions } from './envelope.js';
import type { KvBackend, KvOp } from './kv.js';
import {
  completedCheck,
  completedInput,
  deadLetterCheck,
  deadLetterInput,
  journalCheck,
  metaProblem,
  storedDeadLetter,
  snapshotCheck,
  snapshotInput,
  writeOptionsInput,
} from './records.js';
import type { RecordCheck, SnapshotMeta } from './records.js';
import { IntegrityWatch } from './store-integrity.js';
import { StoreLifecycle } from './store-lifecycle.js';
import type {
  CheckpointStore,
  CodecName,
  CompletedCheckpoint,
  DeadLetter,
  JournalEntry,
  RawEntry,
  ReadResult,
  RepairReport,
  Snapshot,
  StoreIntegrity,
  StoredDeadLetter,
  WriteOptions,
  WriteReceipt,
} from './types.js';

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
   * the newest meta version per stage, and the version below which its snapshots are pruned. They
   * spare a snapshot write the read of its meta record and the scan for versions to prune.
   */
  readonly #metaVersion = new Map<string, number>();
  readonly #prunedBelow = new Map<string, number>();
  /** Versions of each stage written since the first prune (which scanned for older ones): pruned by key, no scan. */
  readonly #written = new Map<string, number[]>();
  /** Per pipeline, the versions at or below which pruning spares snapshots and markers (`retainThrough`), for this store's life. */
  readonly #retained = new Map<string, number>();
  /** The highest `~<n>` suffix of each dead-letter offset known to be taken (0: the plain key). */
  readonly #deadLetterSuffix = new Map<string, number>();
  /** Per stage instance, the highest offset with a dead letter when first looked up in this opening. */
  readonly #deadLetterCeilings = new Map<string, Promise<number>>();
  // Writes run one at a time: pruning and dead-letter suffixes read before they write.
  #writes: Promise<unknown> = Promise.resolve();
  readonly #watch: IntegrityWatch;

  constructor(backend: KvBackend, settings: StoreSettings) {
    this.#backend = backend;
    this.#settings = settings;
    this.#life = new StoreLifecycle(backend);
    this.#watch = new IntegrityWatch(backend, this.#life);
    this.kind = backend.kind;
    this.location = backend.location;
    this.codec = settings.codec;
  }

  get isOpen(): boolean {
    return this.#life.isOpen;
  }

  open(): Promise<void> {
    this.#metaVersion.clear();
    this.#prunedBelow.clear();
    this.#written.clear();
    this.#deadLetterSuffix.clear();
    this.#deadLetterCeilings.clear();
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
      const pruned = await this.#pruneSnapshots(value.pipeline, value.stage, pruneBelow, ops, value.version);
      await this.#backend.write(ops, sync);
      this.#metaVersion.set(meta, Math.max(known, value.version));
      pruned();
      return receipt;
    });
  }

  /**
   * Adds to `ops` the deletion of a stage's snapshots below `pruneBelow` (but `writing`, the one
   * written in the same batch); returns what to remember once the batch is written. The first
   * prune of a stage scans (versions of earlier runs); later ones delete the versions written since.
   */
  async #pruneSnapshots(pipeline: string, stage: string, pruneBelow: number | undefined, ops: KvOp[], writing?: number): Promise<() => void> {
    const meta = metaKey(pipeline, stage);
    // Versions below a floor already pruned cannot have come back: only newer ones are written.
    const prune = pruneBelow !== undefined && pruneBelow > (this.#prunedBelow.get(meta) ?? 0);
    const written = this.#written.get(meta);
    let kept = written;
    if (prune && written === undefined) {
      const keep = writing === undefined ? undefined : snapshotKey(pipeline, stage, writing);
      const retained = this.#retained.get(pipeline);
      const from = retained === undefined ? snapshotPrefix(pipeline, stage) : snapshotKey(pipeline, stage, retained + 1);
      for await (const old of this.#backend.keys({ gte: from, lt: snapshotKey(pipeline, stage, pruneBelow) })) {
        if (old !== keep) ops.push({ type: 'del', key: old });
      }
      kept = [];
    } else if (prune && written !== undefined) {
      kept = [];
      for (const version of written) {
        if (version < pruneBelow && version !== writing) ops.push({ type: 'del', key: snapshotKey(pipeline, stage, version) });
        else kept.push(version);
      }
    }
    return () => {
      if (prune) this.#prunedBelow.set(meta, pruneBelow);
      if (kept === undefined) return;
      if (writing !== undefined && !kept.includes(writing)) kept.push(writing);
      this.#written.set(meta, kept);
    };
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
        const retained = this.#retained.get(value.pipeline) ?? -1;
        for (const old of await this.#completedOf(value.pipeline)) {
          // An unreadable marker's version is unknown: it stays, for `verify` to report.
          if (old.ok && old.key !== key && old.value.version < pruneBelow && old.value.version > retained) ops.push({ type: 'del', key: old.key });
        }
        // The snapshots of the checkpoints that leave with their markers leave in the same batch.
        for (const stage of value.stages) pruned.push(await this.#pruneSnapshots(value.pipeline, stage, pruneBelow, ops));
      }
      await this.#backend.write(ops, sync);
      for (const remember of pruned) remember();
      await this.#watch.witness(value);
      return receiptOf(key, sealed);
    });
  }

  retainThrough(pipeline: string, version: number): void {
    keyName('pipeline', pipeline);
    this.#retained.set(pipeline, integerIn('version', version, 0));
  }

  integrity(pipeline?: string): Promise<StoreIntegrity> {
    return this.#watch.report(pipeline);
  }

  async repair(): Promise<RepairReport> {
    const report = await this.#watch.repair(this.#settings.readOnly);
    // What this store knew it had written may be gone: learn it again.
    this.#metaVersion.clear();
    this.#prunedBelow.clear();
    this.#written.clear();
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
      const keys = await this.#freeDeadLetterKeys(values);
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
    keyName('pipeline', pipeline);
    if (!Array.isArray(events) || !Array.isArray(offsets) || events.length !== offsets.length || events.length === 0) {
      throw new ConfigError('offsets', offsets, `must be a non-empty array with one offset per event (${Array.isArray(events) ? events.length : 'no'} events)`);
    }
    const first = offsets[0] as number;
    for (let i = 1; i < offsets.length; i++) {
      if (offsets[i] !== first + i) throw new ConfigError(`offsets[${i}]`, offsets[i], `must follow offsets[${i - 1}] by one (a journal entry holds consecutive offsets)`);
    }
    const { sync } = writeOptionsInput(options);
    // One entry per append, keyed by its last offset: a prune through an offset deletes by key range.
    const key = journalKey(pipeline, first + events.length - 1);
    const entry: JournalEntry = { pipeline, offset: first, events: [...events] };
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
    const bytes = await this.#backend.get(key);
    return bytes === undefined ? undefined : this.#decode<T>({ key, value: bytes }, options, check);
  }

  #decode<T>(entry: RawEntry, options: OpenOptions, check: RecordCheck): ReadResult<T> {
    const opened = open(entry.value, { decodeV8: this.#settings.decodeV8, ...options });
    if (!opened.ok) return { ok: false, key: entry.key, reason: opened.reason };
    const problem = check(opened.value, entry.key);
    if (problem !== undefined) return { ok: false, key: entry.key, reason: problem };
    return { ok: true, key: entry.key, value: opened.value as T, bytes: entry.value.length, checksum: opened.checksum };
  }

  async #completedOf(pipeline: string): Promise<Array<ReadResult<CompletedCheckpoint>>> {
    const prefix = donePrefix(pipeline);
    const good: Array<Extract<ReadResult<CompletedCheckpoint>, { ok: true }>> = [];
    const bad: Array<ReadResult<CompletedCheckpoint>> = [];
    for await (const entry of this.#backend.entries({ gte: prefix, lt: prefixEnd(prefix) })) {
      const read = this.#decode<CompletedCheckpoint>(entry, { codec: 'json' }, completedCheck);
      if (read.ok) good.push(read);
      else bad.push(read);
    }
    // Checkpoint ids carry no order: newest first by version, then by time; unreadable ones last.
    good.sort((a, b) => b.value.version - a.value.version || b.value.createdAt - a.value.createdAt);
    return [...good, ...bad];
  }

  /**
   * A free key for each letter: `dlq!…!<offset>`, or with the next `~<n>` when that offset already
   * has a letter. What this store wrote while open is remembered (it holds the lock: nobody else
   * writes); an offset it has not seen is looked up, all of a batch's at once.
   */
  async #freeDeadLetterKeys(letters: readonly DeadLetter[]): Promise<string[]> {
    const bases = letters.map((letter) => deadLetterKey(letter.pipeline, letter.stage, letter.offset));
    // Offsets above the highest one stored when this store opened cannot be taken by an earlier run.
    const ceilings = await Promise.all(letters.map((letter) => this.#deadLetterCeiling(letter.pipeline, letter.stage)));
    const unknown = [...new Set(bases.filter((base, i) => !this.#deadLetterSuffix.has(base) && (letters[i] as DeadLetter).offset <= (ceilings[i] as number)))];
    const found = await Promise.all(unknown.map((base) => this.#highestSuffix(base)));
    unknown.forEach((base, i) => {
      const highest = found[i] as number;
      if (highest >= 0) this.#deadLetterSuffix.set(base, highest);
    });
    return letters.map((letter, i) => {
      const base = bases[i] as string;
      const taken = this.#deadLetterSuffix.get(base);
      const suffix = taken === undefined ? 0 : taken + 1;
      this.#deadLetterSuffix.set(base, suffix);
      return suffix === 0 ? base : deadLetterKey(letter.pipeline, letter.stage, letter.offset, suffix);
    });
  }

  /** The highest offset with a dead letter of this stage instance when it was first asked for in this opening (-1: none). */
  async #deadLetterCeiling(pipeline: string, stage: string): Promise<number> {
    const prefix = deadLetterPrefix(pipeline, stage);
    let known = this.#deadLetterCeilings.get(prefix);
    if (known === undefined) {
      known = (async () => {
        for await (const key of this.#backend.keys({ gte: prefix, lt: prefixEnd(prefix), reverse: true })) {
          const parsed = parseKey(key);
          if (parsed?.kind === 'dlq') return parsed.offset;
        }
        return -1;
      })();
      this.#deadLetterCeilings.set(prefix, known);
    }
    return known;
  }

  /** The highest suffix stored for a dead-letter base key (0: the base itself), or -1 when there is none. */
  async #highestSuffix(base: string): Promise<number> {
    if ((await this.#backend.get(base)) === undefined) return -1;
    let highest = 0;
    for await (const key of this.#backend.keys({ gte: `${base}~`, lt: `${base}\u007f` })) {
      const parsed = parseKey(key);
      if (parsed?.kind === 'dlq') highest = Math.max(highest, parsed.suffix);
    }
    return highest;
  }

  #encode(codec: CodecName, value: unknown, key: string, losses?: CodecLoss[]): Uint8Array {
    try {
      return codecOf(codec).encode(value, losses === undefined ? undefined : { onLoss: firstOfEachKind(losses) });
    } catch (error) {
      const cause = isSteadfastError(error) ? (error.cause ?? error) : error;
      throw new CheckpointStoreError('CHECKPOINT_ENCODE_FAILED', this.location, `cannot encode the value for ${key}: ${messageOf(error)}`, cause);
    }
  }

  #seal(codec: CodecName, value: unknown, key: string, losses?: CodecLoss[]): Uint8Array {
    return seal(codec, this.#encode(codec, value, key, losses));
  }
}

function receiptOf(key: string, sealed: Uint8Array, losses: CodecLoss[] = []): WriteReceipt {
  const receipt: WriteReceipt = { key, bytes: sealed.length, checksum: storedChecksum(sealed) as string };
  if (losses.length > 0) receipt.losses = losses;
  return receipt;
}

function keyList(field: string, keys: unknown): string[] {
  if (!Array.isArray(keys)) throw new ConfigError(field, keys, 'must be an array of keys');
  return keys.map((key: unknown, i) => {
    if (typeof key !== 'string' || key.length === 0) throw new ConfigError(`${field}[${i}]`, key, 'must be a non-empty string');
    return key;
  });
}
