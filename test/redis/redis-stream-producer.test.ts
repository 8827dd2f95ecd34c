import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { isSteadfastError } from '../../src/core/errors.js';
import { partitionOf } from '../../src/core/partition-of.js';
import { redisStreamProducer, type RedisStreamProducer } from '../../src/redis/redis-stream-producer.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: ReturnType<typeof createClient>;
beforeAll(async () => {
  server = await startRedisServer();
  redis = createClient({ url: server.url });
  await redis.connect();
});
afterAll(async () => {
  await redis.close();
  await server.stop();
});

const reasonOf = async (run: () => Promise<unknown>): Promise<unknown> =>
  run().then(
    () => undefined,
    (error: unknown) => error,
  );

describe('redisStreamProducer', () => {
  const producers: RedisStreamProducer[] = [];
  const producer = (stream: string, partitions = 8, url = server.url): RedisStreamProducer => {
    const made = redisStreamProducer({ url, stream, partitions });
    producers.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(producers.splice(0).map((p) => p.close()));
  });

  it('appends each value as JSON to the partition of its key, one key in order in one partition', async () => {
    const orders = producer('orders');
    const sent = [];
    for (let i = 0; i < 400; i++) sent.push(orders.send(`user-${i % 40}`, { user: `user-${i % 40}`, n: i }));
    const entries = await Promise.all(sent);
    entries.forEach((entry, i) => expect(entry.partition).toBe(partitionOf(`user-${i % 40}`, 8)));
    let total = 0;
    for (let p = 0; p < 8; p++) {
      const read = (await redis.xRange(`orders:${p}`, '-', '+')) ?? [];
      total += read.length;
      const lastOf = new Map<string, number>();
      for (const { message } of read) {
        const value = JSON.parse(message.value as string) as { user: string; n: number };
        expect(partitionOf(value.user, 8)).toBe(p);
        expect(value.n).toBeGreaterThan(lastOf.get(value.user) ?? -1);
        lastOf.set(value.user, value.n);
      }
    }
    expect(total).toBe(400);
    const [firstSent] = entries;
    expect(await redis.xRange(`orders:${firstSent?.partition}`, firstSent?.id as string, firstSent?.id as string)).toEqual([
      { id: firstSent?.id, message: { value: JSON.stringify({ user: 'user-0', n: 0 }) } },
    ]);
  });

  it('rejects a value JSON cannot hold with CONFIG_INVALID, writing nothing', async () => {
    const p = producer('bad', 2);
    for (const value of [undefined, () => 1, 1n]) {
      const error = await reasonOf(() => p.send('k', value));
      expect(isSteadfastError(error, 'CONFIG_INVALID')).toBe(true);
    }
    expect(isSteadfastError(await reasonOf(() => p.send(7 as never, 1)), 'CONFIG_INVALID')).toBe(true);
    expect(await redis.exists(['bad:0', 'bad:1'])).toBe(0);
  });

  it('refuses bad options with CONFIG_INVALID naming the field', () => {
    const field = (options: object): string => {
      try {
        redisStreamProducer({ url: server.url, stream: 's', partitions: 8, ...options });
      } catch (error) {
        return (error as { field: string }).field;
      }
      return 'none';
    };
    expect(field({ partitions: 0 })).toBe('redisStreamProducer.partitions');
    expect(field({ partitions: 2.5 })).toBe('redisStreamProducer.partitions');
    expect(field({ stream: '' })).toBe('redisStreamProducer.stream');
    expect(field({ url: 'http://127.0.0.1' })).toBe('redisStreamProducer.url');
    expect(field({ extra: 1 })).toBe('redisStreamProducer.extra');
  });

  it('fails the first send (and open) with one REDIS_UNAVAILABLE naming the server when Redis is down; fails sends after close', async () => {
    const down = producer('orders', 8, 'redis://127.0.0.1:1');
    const error = await reasonOf(() => down.send('k', 1));
    expect(isSteadfastError(error, 'REDIS_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toBe('redisStreamProducer of "orders": Redis at redis://127.0.0.1:1 is unavailable: connect ECONNREFUSED 127.0.0.1:1');
    expect(isSteadfastError(await reasonOf(() => down.open()), 'REDIS_UNAVAILABLE')).toBe(true);
    const p = producer('closing');
    await p.send('k', 1);
    await p.close();
    await p.close();
    expect((await reasonOf(() => p.send('k', 2)) as Error).message).toBe('redisStreamProducer of "closing" is closed');
  });
});
