// A checkpoint store backend on Redis: the same ordered keys and sealed values a LevelDB store
// holds, in a sorted set (every score 0, so members sort by their bytes, as LevelDB sorts keys) and
// a hash beside it. One open writer per prefix, held by a lock key with an owner token and expiry;
// every batch is one Lua script that checks the lock first (a writer that lost it writes nothing).
import { nanoid } from 'nanoid';
import { ErrorReply } from 'redis';
import { setRepeating, type CancelTimer, type Clock } from '../core/clock.js';
import type { BackoffOptions } from '../core/backoff.js';
import { CheckpointStoreError, RedisError, messageOf } from '../core/errors.js';
import { connectRedis, redisFailure, type RedisConnection } from '../redis/connection.js';
import { RELEASE_LEASES, RENEW_LEASES } from '../redis/lease-scripts.js';
import { luaScript, runScript } from '../redis/script.js';
import type { KvBackend, KvOp, KvRange } from './kv.js';
import type { RawEntry } from './types.js';

/** How a Redis backend reaches its server and holds its prefix. */
export interface RedisBackendOptions {
  url: string;
  /** Prepended to every Redis key of this store. */
  prefix: string;
  /** Read only: takes no lock, and a prefix never written is CHECKPOINT_STORE_MISSING. */
  readOnly: boolean;
  /** Expiry of the lock (ms); renewed every third of it while open. */
  lockTtlMs: number;
  clock: Clock;
  reconnect: BackoffOptions;
}

const PAGE = 256;
const LOCK_LOST = 'STEADFAST_LOCK_LOST';

// KEYS: lock, index, values. ARGV: token, lock ttl, then (op, key, value) triples; op 'p' or 'd'.
const WRITE = luaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('${LOCK_LOST}')
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 3, #ARGV, 3 do
  if ARGV[i] == 'p' then
    redis.call('ZADD', KEYS[2], 0, ARGV[i + 1])
    redis.call('HSET', KEYS[3], ARGV[i + 1], ARGV[i + 2])
  else
    redis.call('ZREM', KEYS[2], ARGV[i + 1])
    redis.call('HDEL', KEYS[3], ARGV[i + 1])
  end
end
return 1
`);

// KEYS: index, values. ARGV: min, max (ZRANGE BYLEX bounds), reverse '1'/'0', limit, with values '1'/'0'.
// One page of keys (and their values) as of one moment.
const SCAN = luaScript(`
local keys
if ARGV[3] == '1' then
  keys = redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[1], 'BYLEX', 'REV', 'LIMIT', 0, ARGV[4])
else
  keys = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX', 'LIMIT', 0, ARGV[4])
end
if ARGV[5] == '0' or #keys == 0 then
  return keys
end
local values = redis.call('HMGET', KEYS[2], unpack(keys))
local out = {}
for i = 1, #keys do
  out[2 * i - 1] = keys[i]
  out[2 * i] = values[i]
end
return out
`);

/** A backend on one prefix of a Redis server; one writable instance per prefix at a time (its lock). */
export class RedisBackend implements KvBackend {
  readonly kind = 'redis';
  readonly location: string;
  readonly #options: RedisBackendOptions;
  readonly #keys: { lock: string; index: string; values: string; marker: string };
  #connection: RedisConnection | undefined;
  #token = '';
  #stopRenewing: CancelTimer | undefined;

  constructor(location: string, options: RedisBackendOptions) {
    this.location = location;
    this.#options = options;
    const p = options.prefix;
    this.#keys = { lock: `${p}lock`, index: `${p}keys`, values: `${p}values`, marker: `${p}store` };
  }

  async open(): Promise<void> {
    const { url, readOnly, lockTtlMs, reconnect } = this.#options;
    let connection: RedisConnection;
    try {
      connection = await connectRedis(url, { what: `checkpoint store at ${this.location}`, reconnect });
    } catch (error) {
      throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, messageOf(error), error);
    }
    try {
      const { client } = connection;
      if (readOnly) {
        const exists = await connection.run('EXISTS', () => client.exists(this.#keys.marker));
        if (exists === 0) throw new CheckpointStoreError('CHECKPOINT_STORE_MISSING', this.location, `no checkpoint store at ${this.location}`);
      } else {
        const token = nanoid();
        const taken = await connection.run('SET NX', () => client.set(this.#keys.lock, token, { condition: 'NX', expiration: { type: 'PX', value: lockTtlMs } }));
        if (taken === null) {
          const left = await connection.run('PTTL', () => client.pTTL(this.#keys.lock));
          throw new CheckpointStoreError(
            'CHECKPOINT_STORE_LOCKED',
            this.location,
            `checkpoint store at ${this.location} is locked: another process (or store) has it open (its lock expires in ${Math.max(0, left)} ms unless renewed)`,
          );
        }
        this.#token = token;
        await connection.run('SET', () => client.set(this.#keys.marker, '1'));
      }
    } catch (error) {
      await this.#release(connection);
      await connection.close();
      throw this.#typed(error);
    }
    this.#connection = connection;
    if (!readOnly) this.#stopRenewing = setRepeating(this.#options.clock, Math.max(1, Math.floor(lockTtlMs / 3)), () => void this.#renew(), { unref: true });
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#stopRenewing?.();
    this.#stopRenewing = undefined;
    if (connection === undefined) return;
    await this.#release(connection);
    this.#token = '';
    await connection.close();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const connection = this.#open();
    const value = await this.#run('HGET', () => connection.binary.hGet(this.#keys.values, key));
    return value === null || value === undefined ? undefined : new Uint8Array(value as Buffer);
  }

  async write(ops: readonly KvOp[], _sync: boolean): Promise<void> {
    if (ops.length === 0) return;
    const connection = this.#open();
    const args: Array<string | Buffer> = [this.#token, String(this.#options.lockTtlMs)];
    for (const op of ops) {
      if (op.type === 'put') args.push('p', op.key, Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength));
      else args.push('d', op.key, '');
    }
    const { lock, index, values } = this.#keys;
    await this.#run('write', () => runScript(connection.client, WRITE, [lock, index, values], args));
  }

  async *entries(range: KvRange): AsyncGenerator<RawEntry> {
    for await (const page of this.#pages(range, true)) {
      for (let i = 0; i + 1 < page.length; i += 2) {
        const value = page[i + 1];
        if (value !== null && value !== undefined) yield { key: (page[i] as Buffer).toString('utf8'), value: new Uint8Array(value) };
      }
    }
  }

  async *keys(range: KvRange): AsyncGenerator<string> {
    for await (const page of this.#pages(range, false)) {
      for (const key of page) yield (key as Buffer).toString('utf8');
    }
  }

  /** Pages of a range scan: keys (and values) of up to {@link PAGE} keys each, each page as of one moment. */
  async *#pages(range: KvRange, withValues: boolean): AsyncGenerator<Array<Buffer | null>> {
    const connection = this.#open();
    const reverse = range.reverse === true;
    let min = range.gte === undefined ? '-' : `[${range.gte}`;
    let max = range.lt === undefined ? '+' : `(${range.lt}`;
    const { index, values } = this.#keys;
    for (;;) {
      const args = [min, max, reverse ? '1' : '0', String(PAGE), withValues ? '1' : '0'];
      const page = (await this.#run('scan', () => runScript(connection.binary, SCAN, [index, values], args))) as Array<Buffer | null>;
      if (page.length === 0) return;
      yield page;
      const count = withValues ? page.length / 2 : page.length;
      if (count < PAGE) return;
      const last = (page[withValues ? page.length - 2 : page.length - 1] as Buffer).toString('utf8');
      if (reverse) max = `(${last}`;
      else min = `(${last}`;
    }
  }

  #open(): RedisConnection {
    if (this.#connection === undefined) throw new Error('the Redis backend is not open');
    return this.#connection;
  }

  async #run<T>(_command: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#typed(error);
    }
  }

  async #renew(): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || this.#token === '') return;
    // A failed renewal is tried again a third of the lock's life later; a lost lock shows in the next write.
    await runScript(connection.client, RENEW_LEASES, [this.#keys.lock], [this.#token, String(this.#options.lockTtlMs)]).catch(() => undefined);
  }

  async #release(connection: RedisConnection): Promise<void> {
    if (this.#token === '') return;
    await runScript(connection.client, RELEASE_LEASES, [this.#keys.lock], [this.#token]).catch(() => undefined);
  }

  /** Redis failures as store errors: a lost lock is CHECKPOINT_STORE_LOCKED, the rest CHECKPOINT_STORE_FAILED with the RedisError as cause. */
  #typed(error: unknown): unknown {
    if (error instanceof CheckpointStoreError) return error;
    if (error instanceof ErrorReply && error.message.includes(LOCK_LOST)) {
      return new CheckpointStoreError(
        'CHECKPOINT_STORE_LOCKED',
        this.location,
        `checkpoint store at ${this.location} lost its lock (it expired while this process could not renew it, and another store may have taken it): write refused`,
        error,
      );
    }
    const failure = error instanceof RedisError ? error : redisFailure(this.#connection?.url ?? this.location, `checkpoint store at ${this.location}`, 'a command', error);
    return new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, failure.message, failure);
  }
}
