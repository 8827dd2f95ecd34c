import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/checkpoint/redis-store.js';
import { PartitionLeases } from '../../src/redis/partition-leases.js';
import { redisStreamProducer } from '../../src/redis/redis-stream-producer.js';
import { toRedisStream } from '../../src/sinks/to-redis-stream.js';
import { snapshot } from '../checkpoint/store-conformance.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

describe('Redis parts, closed', () => {
  it('leave no socket or timer behind: store, producer, sink and leases, used then closed', async () => {
    const before = activeResources();
    const store = redisStore({ url: server.url, prefix: 'clean:', lockTtlMs: 3_000 });
    await store.writeSnapshot(snapshot(1));
    const producer = redisStreamProducer({ url: server.url, stream: 'clean', partitions: 2 });
    await producer.send('k', 1);
    const sink = toRedisStream({ url: server.url, stream: 'clean-out' });
    await sink.open?.();
    await sink.write([1], [0]);
    const leases = new PartitionLeases({ url: server.url, group: 'clean', partitions: 2, leaseMs: 3_000 });
    await leases.start();
    expect(leases.owned()).toEqual([0, 1]);
    expect(leakedSince(before)).not.toEqual({});
    await Promise.all([store.close(), producer.close(), sink.close?.(), leases.stop()]);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('leave nothing behind when Redis was down at start', async () => {
    const before = activeResources();
    const url = 'redis://127.0.0.1:1';
    const store = redisStore({ url });
    await store.open().catch(() => undefined);
    const producer = redisStreamProducer({ url, stream: 's', partitions: 1 });
    await producer.send('k', 1).catch(() => undefined);
    const leases = new PartitionLeases({ url, group: 'g', partitions: 1 });
    await leases.start().catch(() => undefined);
    await Promise.all([store.close(), producer.close(), leases.stop()]);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });
});
