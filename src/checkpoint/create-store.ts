import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { knownKeys, oneOf, record } from '../core/validate.js';
import { CODEC_NAMES } from './codec.js';
import { KvCheckpointStore } from './checkpoint-store.js';
import { LevelBackend } from './level-store.js';
import { MemoryBackend } from './memory-store.js';
import type { CheckpointStore, CodecName } from './types.js';

/** Where and how a checkpoint store keeps its data. */
export interface CheckpointStoreOptions {
  /** LevelDB directory (resolved against the working directory); required for `kind: 'level'`. */
  dir?: string;
  /** `'level'` (default when `dir` is given) or `'memory'` (default otherwise). */
  kind?: 'level' | 'memory';
  /** How snapshots and dead letters are encoded: `'json'` (default) or `'v8'` (trusted data only). */
  codec?: CodecName;
  /** Refuse every write, and never create the directory: a missing one is CHECKPOINT_STORE_MISSING. */
  readOnly?: boolean;
  /** Create a missing directory (default: true unless `readOnly`). */
  createIfMissing?: boolean;
  /** Decode v8 payloads on read (default true); false for a directory whose origin is not trusted. */
  decodeV8?: boolean;
}

const KNOWN = ['dir', 'kind', 'codec', 'readOnly', 'createIfMissing', 'decodeV8'] as const;

/**
 * Creates a checkpoint store; it opens on `open()` or on its first operation. A directory that
 * another process (or another store in this process) holds fails with CHECKPOINT_STORE_LOCKED.
 *
 * @example
 * const store = createCheckpointStore({ dir: '.steadfast' });
 * await store.open();
 * await store.writeSnapshot(snapshot, { sync: true, pruneBelow: snapshot.version - 2 });
 * for await (const read of store.snapshots('orders', 'enrich')) if (read.ok) return read.value;
 * await store.close();
 */
export function createCheckpointStore(options: CheckpointStoreOptions = {}): CheckpointStore {
  const opts = record('options', options);
  knownKeys('options', opts, KNOWN);
  const kind = oneOf('options.kind', opts.kind ?? (opts.dir === undefined ? 'memory' : 'level'), ['level', 'memory'] as const);
  const codec = oneOf('options.codec', opts.codec ?? 'json', CODEC_NAMES);
  const readOnly = flag('options.readOnly', opts.readOnly, false);
  const createIfMissing = flag('options.createIfMissing', opts.createIfMissing, !readOnly);
  const decodeV8 = flag('options.decodeV8', opts.decodeV8, true);
  if (readOnly && createIfMissing) throw new ConfigError('options.createIfMissing', true, 'cannot be true for a readOnly store');
  const settings = { codec, readOnly, decodeV8 };
  if (kind === 'memory') {
    if (opts.dir !== undefined) throw new ConfigError('options.dir', opts.dir, "must be left out for kind 'memory'");
    return new KvCheckpointStore(new MemoryBackend(), settings);
  }
  if (typeof opts.dir !== 'string' || opts.dir.length === 0 || opts.dir.includes('\0')) {
    throw new ConfigError('options.dir', opts.dir, "must be a non-empty path for kind 'level'");
  }
  return new KvCheckpointStore(new LevelBackend(resolve(opts.dir), { createIfMissing }), settings);
}

function flag(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(field, value, 'must be a boolean');
  return value;
}
