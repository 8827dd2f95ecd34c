// The ordered key-value backend under a checkpoint store: LevelDB, or a sorted map in memory.
import type { WitnessEntry, WitnessRead } from './level-integrity.js';
import type { RawEntry } from './types.js';

/** A key range; bounds are strings compared as UTF-8 bytes, as LevelDB compares them. */
export interface KvRange {
  gte?: string;
  lt?: string;
  reverse?: boolean;
}

/** One operation of an atomic batch. */
export type KvOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** What a LevelDB directory knows of damage below the checksums (see level-integrity.ts). */
export interface KvIntegrity {
  /** What LevelDB dropped while this backend opened. */
  openDamage(): readonly string[];
  /** The last completed checkpoint of each pipeline the directory is known to have held. */
  witness(): WitnessRead;
  recordWitness(pipeline: string, entry: WitnessEntry): Promise<void>;
  /** LevelDB's repair, on the closed backend; resolves with what it reported. */
  repair(): Promise<string[]>;
}

/** What a checkpoint store needs of its storage: open/close, point reads, atomic batches, ordered scans. */
export interface KvBackend {
  readonly kind: 'level' | 'memory' | 'redis';
  readonly location: string;
  /** Throws CheckpointStoreError (LOCKED, MISSING, FAILED). */
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Applies `ops` in order, all or none; `sync` waits for the disk. */
  write(ops: readonly KvOp[], sync: boolean): Promise<void>;
  /** Entries in range, as of the call (later writes are not seen). */
  entries(range: KvRange): AsyncIterable<RawEntry>;
  keys(range: KvRange): AsyncIterable<string>;
}
