import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { redisStore } from '../../src/checkpoint/redis-store.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { CheckpointStoreError, isSteadfastError } from '../../src/core/errors.js';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { collect, describeStoreConformance, done, rejection, snapshot } from './store-conformance.js';

let server: RedisServer;
let count = 0;
const freshPrefix = (): string => `t${++count}:`;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

describeStoreConformance('redis', async (options = {}) => {
  const prefix = freshPrefix();
  if (options.readOnly === true) {
    // a read-only store needs a store to read: create an empty one
    const writable = redisStore({ url: server.url, prefix });
    await writable.open();
    await writable.close();
  }
  return redisStore({ url: server.url, prefix, ...options });
});

describe('redis checkpoint store', () => {
  const stores: CheckpointStore[] = [];
  const store = (options: Partial<Parameters<typeof redisStore>[0]> & { prefix: string }): CheckpointStore => {
    const made = redisStore({ url: server.url, ...options });
    stores.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('is of kind redis, located at its url and prefix', () => {
    const made = store({ prefix: 'p:' });
    expect(made.kind).toBe('redis');
    expect(made.location).toBe(`${server.url}#p:`);
    expect(store({ prefix: 'q:', url: 'redis://user:secret@127.0.0.1:1' }).location).toBe('redis://user:***@127.0.0.1:1#q:');
  });

  it('keeps what it wrote across close and reopen, and keeps prefixes apart', async () => {
    const prefix = freshPrefix();
    const first = store({ prefix });
    await first.writeSnapshot(snapshot(1));
    await first.completeCheckpoint(done(1, 'c1'));
    await first.close();
    const again = store({ prefix, readOnly: true });
    expect(await again.readSnapshot('orders', 'enrich', 1)).toMatchObject({ ok: true, value: snapshot(1) });
    expect((await collect(again.completed('orders'))).map((r) => r.ok && r.value.checkpointId)).toEqual(['c1']);
    const other = store({ prefix: freshPrefix() });
    expect(await collect(other.entries())).toEqual([]);
  });

  it('refuses a second writer on the same prefix with CHECKPOINT_STORE_LOCKED, and lets one in after close', async () => {
    const prefix = freshPrefix();
    const first = store({ prefix });
    await first.open();
    const second = store({ prefix });
    const error = await rejection(() => second.open(), 'CHECKPOINT_STORE_LOCKED');
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect(error.message).toMatch(/is locked: another process \(or store\) has it open/);
    // a reader takes no lock
    const reader = store({ prefix, readOnly: true });
    await reader.open();
    await first.close();
    await second.open();
    await second.writeSnapshot(snapshot(1));
  });

  it('fences a writer whose lock expired: its next write is refused, the new holder\'s data stays', async () => {
    const prefix = freshPrefix();
    // a clock that never moves: this store never renews its lock, as a paused process would not
    const paused = store({ prefix, lockTtlMs: 100, clock: new SimulatedClock() });
    await paused.writeSnapshot(snapshot(1));
    const taker = store({ prefix, lockTtlMs: 10_000 });
    await expect.poll(async () => taker.open().then(() => true, (e: unknown) => (isSteadfastError(e, 'CHECKPOINT_STORE_LOCKED') ? false : Promise.reject(e))), { timeout: 5_000, interval: 50 }).toBe(true);
    await taker.writeSnapshot(snapshot(2));
    const refused = await rejection(() => paused.writeSnapshot(snapshot(3)), 'CHECKPOINT_STORE_LOCKED');
    expect(refused.message).toMatch(/lost its lock/);
    expect((await collect(taker.snapshots('orders', 'enrich'))).map((r) => r.ok && r.value.version)).toEqual([2, 1]);
  });

  it('renews its lock on its clock while open, and deletes it on close', async () => {
    const prefix = freshPrefix();
    const clock = new SimulatedClock();
    const held = store({ prefix, lockTtlMs: 5_000, clock });
    await held.open();
    const redis = createClient({ url: server.url });
    await redis.connect();
    try {
      const ttl = async (): Promise<number> => redis.pTTL(`${prefix}lock`);
      const first = await ttl();
      expect(first).toBeGreaterThan(4_000);
      // real time runs down the lock's ttl; the store's clock has not moved: no renewal yet
      await expect.poll(ttl, { timeout: 3_000, interval: 20 }).toBeLessThan(first - 100);
      // a third of the ttl on the store's clock: the renewal puts it back near 5 s
      await clock.advance(1_666);
      await expect.poll(ttl, { timeout: 3_000, interval: 10 }).toBeGreaterThan(first - 50);
      await held.close();
      expect(await ttl()).toBe(-2);
    } finally {
      await redis.close();
    }
  });

  it('writes a snapshot, its meta record and the pruning in one script: all or nothing', async () => {
    const prefix = freshPrefix();
    const writer = store({ prefix });
    for (const v of [1, 2, 3]) await writer.writeSnapshot(snapshot(v));
    await writer.writeSnapshot(snapshot(4), { pruneBelow: 3 });
    const keys = (await collect(writer.entries())).map((e) => e.key);
    expect(keys).toEqual(['ckpt!orders!enrich!0000000000000003', 'ckpt!orders!enrich!0000000000000004', 'meta!orders!enrich']);
  });

  it('fails at open with one clear error when Redis is down, naming the server', async () => {
    const down = store({ prefix: 'x:', url: 'redis://127.0.0.1:1' });
    const error = await rejection(() => down.open(), 'CHECKPOINT_STORE_FAILED');
    expect(error.message).toBe('checkpoint store at redis://127.0.0.1:1#x:: Redis at redis://127.0.0.1:1 is unavailable: connect ECONNREFUSED 127.0.0.1:1');
    expect(isSteadfastError(error.cause, 'REDIS_UNAVAILABLE')).toBe(true);
  });

  it('refuses bad options with CONFIG_INVALID naming the field', () => {
    const field = (run: () => unknown): string => {
      try {
        run();
      } catch (error) {
        if (isSteadfastError(error, 'CONFIG_INVALID')) return (error as unknown as { field: string }).field;
        throw error;
      }
      throw new Error('nothing thrown');
    };
    expect(field(() => redisStore({ url: 'http://x' }))).toBe('redisStore.url');
    expect(field(() => redisStore({ url: server.url, prefix: '' }))).toBe('redisStore.prefix');
    expect(field(() => redisStore({ url: server.url, lockTtlMs: 0 }))).toBe('redisStore.lockTtlMs');
    expect(field(() => redisStore({ url: server.url, reconnect: { maxMs: -1 } }))).toBe('redisStore.reconnect.maxMs');
    expect(field(() => redisStore({ url: server.url, dir: 'x' } as never))).toBe('redisStore.dir');
  });
});
