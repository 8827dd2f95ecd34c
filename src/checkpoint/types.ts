// The records a checkpoint store keeps, and the store contract both stores (level, memory) honour.
// Format and guarantees: DESIGN.md "Checkpoints" and docs/checkpointing.md.
import type { CodecLoss } from './json-tags.js';

/** How a state is turned into stored bytes: `json` (default) or `v8` (trusted data only). */
export type CodecName = 'json' | 'v8';

/** One stage instance's state at one checkpoint version. */
export interface Snapshot<TState = unknown> {
  pipeline: string;
  /** The stage instance name, as in `stats().stages` (replicas are `<node>#<i>`). */
  stage: string;
  /** The checkpoint's sequence number in this pipeline (1, 2, …); versions order snapshots. */
  version: number;
  /** The last source offset whose effects the state includes (-1: none yet). */
  offset: number;
  checkpointId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  state: TState;
}

/** A pipeline checkpoint every stage instance wrote: from here on its source offset is committed. */
export interface CompletedCheckpoint {
  pipeline: string;
  checkpointId: string;
  version: number;
  /** The committed source offset: after a crash the source replays from `offset + 1`. */
  offset: number;
  createdAt: number;
  /** The stage instances whose snapshots at `version` make up the checkpoint. */
  stages: string[];
}

/** An event that exhausted its retries, or met a stage in `deadLetter` mode. */
export interface DeadLetter {
  pipeline: string;
  stage: string;
  offset: number;
  event: unknown;
  error: { name: string; code: string | undefined; message: string };
  attempts: number;
  /** Epoch milliseconds. */
  at: number;
  /** Set by `steadfast dlq replay`: the pipeline re-injects it at its next start. */
  replay?: boolean;
}

/** Events a push source took in, at consecutive offsets from `offset`: journalled until a checkpoint covers them. */
export interface JournalEntry {
  pipeline: string;
  /** The offset of the first event; event i has `offset + i`. */
  offset: number;
  events: unknown[];
}

/** A dead letter as read back, with the key it is stored under. */
export interface StoredDeadLetter extends DeadLetter {
  key: string;
}

/** One stored value read back: decoded when its checksum and codec agree, or why not. */
export type ReadResult<T> =
  | { ok: true; key: string; value: T; bytes: number; checksum: string }
  | { ok: false; key: string; reason: string };

/** Where a write went. */
export interface WriteReceipt {
  key: string;
  /** Stored bytes of the value (header included). */
  bytes: number;
  /** FNV-1a 64 of the value, 16 lowercase hex digits. */
  checksum: string;
  /** What the json codec could not keep as it was (the first of each kind); absent when nothing. */
  losses?: CodecLoss[];
}

/** Durability of one write: `sync` waits for the OS to flush it to disk (LevelDB `sync: true`). */
export interface WriteOptions {
  sync?: boolean;
  /** Entries of the same kind (this stage's snapshots / this pipeline's done markers) with a lower version are deleted in the same atomic batch. */
  pruneBelow?: number;
}

/** Damage below the checksum layer a store knows of (level stores): see docs/checkpointing.md "Damaged LevelDB files". */
export interface StoreIntegrity {
  /** What LevelDB dropped from its log while this store opened: writes lost without a trace in the data. */
  dropped: string[];
  /** The last completed checkpoint of the pipeline this directory is known to have held (its STEADFAST file). */
  witnessed: { version: number; checkpointId: string; at: number } | undefined;
  /** Why the witness file could not be read or written, if so. */
  witnessProblem?: string;
}

/** What LevelDB's repair did to a store's directory. */
export interface RepairReport {
  location: string;
  /** What LevelDB reported: tables and log files it salvaged, entries it kept, what it dropped. */
  log: string[];
}

/** A raw key/value pair, for `verify` and for tests. */
export interface RawEntry {
  key: string;
  value: Uint8Array;
}

/**
 * Where checkpoints, completed-checkpoint markers and dead letters live. Reads never throw for
 * corrupt data: they return `{ ok: false, reason }` entries; I/O failures throw typed errors.
 */
export interface CheckpointStore {
  readonly kind: 'level' | 'memory' | 'redis';
  /** The absolute directory of a level store, `<redis url>#<prefix>` of a redis store, `memory` otherwise. */
  readonly location: string;
  readonly codec: CodecName;
  readonly isOpen: boolean;
  /** Opens the store; CHECKPOINT_STORE_LOCKED at once if another process (or store) holds it. Idempotent. */
  open(): Promise<void>;
  /** Closes the store after the writes in flight. Idempotent. */
  close(): Promise<void>;

  /** Writes a snapshot, its `meta!` record and the pruning of older versions, in one atomic batch. */
  writeSnapshot(snapshot: Snapshot, options?: WriteOptions): Promise<WriteReceipt>;
  /** A stage instance's snapshots, newest version first. */
  snapshots(pipeline: string, stage: string): AsyncIterable<ReadResult<Snapshot>>;
  /** One version of a stage instance's snapshot; `undefined` when absent. */
  readSnapshot(pipeline: string, stage: string, version: number): Promise<ReadResult<Snapshot> | undefined>;

  /**
   * Records a completed checkpoint (`done!…`) and, per `pruneBelow`, deletes older markers and the
   * older snapshots of the stages it lists, in one atomic batch.
   */
  completeCheckpoint(done: CompletedCheckpoint, options?: WriteOptions): Promise<WriteReceipt>;
  /** A pipeline's completed checkpoints, newest first. */
  completed(pipeline: string): AsyncIterable<ReadResult<CompletedCheckpoint>>;
  /**
   * From now until the store is closed, pruning (`pruneBelow`) spares the pipeline's snapshots and
   * markers of versions up to `version`: a run started from an older checkpoint deletes only what it wrote.
   */
  retainThrough?(pipeline: string, version: number): void;

  /** Stores a dead letter under `dlq!<pipeline>!<stage>!<offset>` (a suffix keeps two letters of one offset apart). */
  putDeadLetter(letter: DeadLetter, options?: WriteOptions): Promise<WriteReceipt>;
  /** Stores dead letters in one atomic batch, as `putDeadLetter` would one by one; resolves with their receipts, in order. */
  putDeadLetters(letters: readonly DeadLetter[], options?: WriteOptions): Promise<WriteReceipt[]>;
  /** Dead letters in key order, of one pipeline or all; corrupt ones come back as failed reads. */
  deadLetters(pipeline?: string): Promise<Array<ReadResult<StoredDeadLetter>>>;
  /** Marks dead letters for replay at the pipeline's next start. */
  markForReplay(keys: readonly string[]): Promise<void>;
  /** Deletes entries by key (dead letters after replay, or pruning by the CLI). */
  deleteKeys(keys: readonly string[], options?: WriteOptions): Promise<void>;

  /** Journals events of a push source, at consecutive `offsets`, as one entry under `journal!<pipeline>!<last offset>`. */
  appendJournal(pipeline: string, events: readonly unknown[], offsets: readonly number[], options?: WriteOptions): Promise<void>;
  /** A pipeline's journal entries, oldest first; corrupt ones come back as failed reads. */
  journal(pipeline: string): AsyncIterable<ReadResult<JournalEntry>>;
  /** Deletes a pipeline's journal entries whose events are all at or before `throughOffset`; resolves with how many entries. */
  pruneJournal(pipeline: string, throughOffset: number, options?: WriteOptions): Promise<number>;

  /** Pipelines and their stage instances that have snapshots, in key order. */
  pipelines(): Promise<Array<{ pipeline: string; stages: string[] }>>;
  /** Raw entries whose key starts with `prefix` (all when omitted), in key order. */
  entries(prefix?: string): AsyncIterable<RawEntry>;
  /** Damage below the checksums this store knows of, for `pipeline` if given (level stores; others leave it out). */
  integrity?(pipeline?: string): Promise<StoreIntegrity>;
  /**
   * Runs LevelDB's repair on the store's directory (closing and reopening the store) after LevelDB
   * reported it corrupt (CHECKPOINT_CORRUPT); entries LevelDB can no longer read are lost (level stores).
   */
  repair?(): Promise<RepairReport>;
  /** Writes raw bytes under a key. Tests and repair tools only: it bypasses every check. @internal */
  putRaw(key: string, value: Uint8Array): Promise<void>;
}
