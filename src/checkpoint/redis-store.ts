import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { integerIn, knownKeys, oneOf, record } from '../core/validate.js';
import { reconnectOptions, redactUrl, redisUrl } from '../redis/connection.js';
import type { BackoffOptions } from '../core/backoff.js';
import { CODEC_NAMES } from './codec.js';
import { KvCheckpointStore } from './checkpoint-store.js';
import { RedisBackend } from './redis-backend.js';
import type { CheckpointStore, CodecName } from './types.js';

/** Where and how a Redis checkpoint store keeps its data. */
export interface RedisStoreOptions {
  /** The server, `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /** Prepended to every Redis key of the store (default `steadfast:`); one open writer per prefix. */
  prefix?: string;
  /** How snapshots and dead letters are encoded: `'json'` (default) or `'v8'` (trusted data only). */
  codec?: CodecName;
  /** Refuse every write and take no lock; a prefix never written is CHECKPOINT_STORE_MISSING. */
  readOnly?: boolean;
  /** Decode v8 payloads on read (default true). */
  decodeV8?: boolean;
  /** Expiry of the store's lock in ms (default 30,000), renewed every third of it on `clock`. */
  lockTtlMs?: number;
  /** Drives the lock's renewal (default: the process clock). */
  clock?: Clock;
  /** Delay between reconnect attempts after the connection was lost (partial backoff; default 50 ms doubling up to 2 s). */
  reconnect?: Partial<BackoffOptions>;
}

const KNOWN = ['url', 'prefix', 'codec', 'readOnly', 'decodeV8', 'lockTtlMs', 'clock', 'reconnect'] as const;

/**
 * A checkpoint store on a Redis server: the records, checksums and retention of the LevelDB store,
 * each batch written atomically by one Lua script; it connects on `open()` or on its first operation.
 * Redis unreachable then is CHECKPOINT_STORE_FAILED (its cause REDIS_UNAVAILABLE); another open
 * writer on the same prefix is CHECKPOINT_STORE_LOCKED.
 *
 * @example
 * createPipeline({ name: 'orders', source, stages, sink,
 *   checkpoint: { store: redisStore({ url: 'redis://127.0.0.1:6379', prefix: 'orders:' }) } });
 */
export function redisStore(options: RedisStoreOptions): CheckpointStore {
  const opts = record('redisStore options', options);
  knownKeys('redisStore', opts, KNOWN);
  const url = redisUrl('redisStore.url', opts.url);
  const prefix = opts.prefix ?? 'steadfast:';
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 256 || /\s/.test(prefix)) {
    throw new ConfigError('redisStore.prefix', prefix, 'must be 1-256 characters without whitespace');
  }
  const codec = oneOf('redisStore.codec', opts.codec ?? 'json', CODEC_NAMES);
  const readOnly = flag('redisStore.readOnly', opts.readOnly, false);
  const decodeV8 = flag('redisStore.decodeV8', opts.decodeV8, true);
  const lockTtlMs = opts.lockTtlMs === undefined ? 30_000 : integerIn('redisStore.lockTtlMs', opts.lockTtlMs, 30, 2_147_483_647);
  const clock = opts.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof (clock as Clock).now !== 'function') throw new ConfigError('redisStore.clock', clock, 'must be a Clock');
  const reconnect = reconnectOptions('redisStore.reconnect', opts.reconnect);
  const location = `${redactUrl(url)}#${prefix}`;
  const backend = new RedisBackend(location, { url, prefix, readOnly, lockTtlMs, clock: clock as Clock, reconnect });
  return new KvCheckpointStore(backend, { codec, readOnly, decodeV8 });
}

function flag(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(field, value, 'must be a boolean');
  return value;
}
