// redis-server killed (SIGKILL) and started again on its append-only file: the store, the producer,
// the sink and the leases fail fast with typed errors while it is down, reconnect with backoff, and
// go on with the data Redis kept. Nothing crashes the test process, nothing waits silently.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from 'redis';
import { redisStore } from '../../src/checkpoint/redis-store.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { SinkWriteError, isSteadfastError } from '../../src/core/errors.js';
import { createPipeline, defineStage, fromIterable, toArray } from '../../src/index.js';
import type { LeaseEvent } from '../../src/redis/lease-events.js';
import { PartitionLeases } from '../../src/redis/partition-leases.js';
import { redisStreamProducer } from '../../src/redis/redis-stream-producer.js';
import { toRedisStream } from '../../src/sinks/to-redis-stream.js';
import { collect, snapshot } from '../checkpoint/store-conformance.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer({ appendOnly: true });
});
afterAll(async () => {
  await server.stop();
});

/** Runs `work`; resolves with its error and how long it took to fail. */
async function failure(work: () => unknown): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await work();
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
  throw new Error('expected a failure, it succeeded');
}

/** Retries `work` until it succeeds (the client reconnecting in the background). */
async function eventually<T>(work: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  await vi.waitFor(async () => (result = await work()), { timeout: 10_000, interval: 50 });
  return result as T;
}

const reconnect = { minMs: 20, maxMs: 200 };

describe('redis-server killed and restarted', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    if (server.pid === undefined) await server.restart();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('store: writes fail fast with CHECKPOINT_STORE_FAILED (cause REDIS_UNAVAILABLE) while Redis is down, then go on, with what was written before kept and the lock still held', async () => {
    const store: CheckpointStore = redisStore({ url: server.url, prefix: 'restart:', reconnect });
    cleanups.push(() => store.close());
    await store.writeSnapshot(snapshot(1));
    await server.kill();
    const { error, ms } = await failure(() => store.writeSnapshot(snapshot(2)));
    expect(isSteadfastError(error, 'CHECKPOINT_STORE_FAILED')).toBe(true);
    expect(isSteadfastError((error as Error).cause, 'REDIS_UNAVAILABLE')).toBe(true);
    expect(ms).toBeLessThan(1_000);
    await server.restart();
    await eventually(() => store.writeSnapshot(snapshot(2)));
    expect((await collect(store.snapshots('orders', 'enrich'))).map((r) => r.ok && r.value.version)).toEqual([2, 1]);
    const rival = redisStore({ url: server.url, prefix: 'restart:' });
    expect((await failure(() => rival.open())).error).toMatchObject({ code: 'CHECKPOINT_STORE_LOCKED' });
    await rival.close();
  });

  it('producer: sends fail fast with REDIS_UNAVAILABLE while Redis is down, then go on; entries sent before are kept', async () => {
    const producer = redisStreamProducer({ url: server.url, stream: 'restarted', partitions: 1, reconnect });
    cleanups.push(() => producer.close());
    await producer.send('k', 1);
    await server.kill();
    const { error, ms } = await failure(() => producer.send('k', 2));
    expect(isSteadfastError(error, 'REDIS_UNAVAILABLE')).toBe(true);
    expect(ms).toBeLessThan(1_000);
    await server.restart();
    await eventually(() => producer.send('k', 3));
    const redis = createClient({ url: server.url });
    await redis.connect();
    cleanups.push(() => redis.close());
    expect(((await redis.xRange('restarted:0', '-', '+')) ?? []).map((e) => e.message.value)).toEqual(['1', '3']);
  });

  it('sink: a write fails with SINK_WRITE_FAILED naming its values (cause REDIS_UNAVAILABLE), and the next one after the restart succeeds with the same ids', async () => {
    const sink = toRedisStream({ url: server.url, stream: 'sunk', reconnect });
    cleanups.push(async () => sink.close?.());
    await sink.open?.();
    await sink.write(['a'], [0]);
    await server.kill();
    const { error } = await failure(() => sink.write(['b', 'c'], [1, 1]));
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).offsets).toEqual([1, 1]);
    expect(isSteadfastError((error as Error).cause, 'REDIS_UNAVAILABLE')).toBe(true);
    await server.restart();
    await eventually(async () => sink.write(['b', 'c'], [1, 1]));
    const redis = createClient({ url: server.url });
    await redis.connect();
    cleanups.push(() => redis.close());
    expect(((await redis.xRange('sunk', '-', '+')) ?? []).map((e) => e.message.id)).toEqual(['sunk:0:0', 'sunk:1:0', 'sunk:1:1']);
  });

  it('leases: a short outage is a few error events and no lost partition; the leases Redis kept are renewed after the restart', async () => {
    const events: LeaseEvent[] = [];
    const leases = new PartitionLeases({ url: server.url, group: 'short', partitions: 8, member: 'a', leaseMs: 5_000, renewMs: 50, reconnect });
    leases.subscribe((e) => events.push(e));
    cleanups.push(() => leases.stop());
    await leases.start();
    expect(leases.owned()).toHaveLength(8);
    await server.kill();
    await vi.waitFor(() => expect(events.some((e) => e.type === 'steadfast.lease.error' && e.error.code === 'REDIS_UNAVAILABLE')).toBe(true), { timeout: 3_000, interval: 10 });
    await server.restart();
    const redis = createClient({ url: server.url });
    await redis.connect();
    cleanups.push(() => redis.close());
    // renewed again: the ttl climbs back above what was left of it at the kill
    await vi.waitFor(async () => expect(await redis.pTTL('steadfast:short:lease:0')).toBeGreaterThan(4_800), { timeout: 5_000, interval: 20 });
    expect(leases.owned()).toHaveLength(8);
    expect(events.filter((e) => e.type === 'steadfast.lease.lost')).toEqual([]);
    expect(await redis.get('steadfast:short:lease:7')).toBe('a');
  });

  it('leases: an outage longer than a lease loses every partition (expired) in time, and takes them again once Redis is back', async () => {
    const events: LeaseEvent[] = [];
    const leases = new PartitionLeases({ url: server.url, group: 'long', partitions: 8, member: 'a', leaseMs: 300, renewMs: 50, reconnect });
    leases.subscribe((e) => events.push(e));
    cleanups.push(() => leases.stop());
    await leases.start();
    expect(leases.owned()).toHaveLength(8);
    await server.kill();
    const t0 = performance.now();
    await vi.waitFor(() => expect(leases.owned()).toEqual([]), { timeout: 3_000, interval: 10 });
    expect(performance.now() - t0).toBeLessThan(1_000);
    const lost = events.filter((e) => e.type === 'steadfast.lease.lost');
    expect(lost).toHaveLength(8);
    expect(lost.every((e) => e.type === 'steadfast.lease.lost' && e.reason === 'expired')).toBe(true);
    await server.restart();
    await vi.waitFor(() => expect(leases.owned()).toHaveLength(8), { timeout: 5_000, interval: 20 });
    expect(events.filter((e) => e.type === 'steadfast.lease.acquired')).toHaveLength(16);
  });

  it('leases: a server that stops answering (SIGSTOP) costs every partition in time, and stop() still ends', async () => {
    const events: LeaseEvent[] = [];
    const leases = new PartitionLeases({ url: server.url, group: 'hung', partitions: 8, member: 'a', leaseMs: 300, renewMs: 50, reconnect });
    leases.subscribe((e) => events.push(e));
    cleanups.push(() => leases.stop());
    await leases.start();
    expect(leases.owned()).toHaveLength(8);
    server.pause();
    try {
      // the rounds hang on the silent server; the leases' own time still runs out
      await vi.waitFor(() => expect(leases.owned()).toEqual([]), { timeout: 3_000, interval: 10 });
      expect(events.filter((e) => e.type === 'steadfast.lease.lost' && e.reason === 'expired')).toHaveLength(8);
      const t0 = performance.now();
      await leases.stop();
      expect(performance.now() - t0).toBeLessThan(2_000);
      expect(events.some((e) => e.type === 'steadfast.lease.error' && /did not answer within 300 ms/.test(e.error.message))).toBe(true);
    } finally {
      server.resume();
    }
  });

  it('pipeline on a redis store: checkpoints fail while redis-server is down, complete again after its restart, and the run ends with every event counted once', async () => {
    const N = 20_000;
    const types: string[] = [];
    const stage = defineStage({
      name: 'count',
      initialState: () => ({ n: 0 }),
      process: async (e: number, state: { n: number }, ctx) => {
        if (ctx.offset === 5_000) await server.kill();
        if (ctx.offset === 10_000) {
          await vi.waitFor(() => expect(types).toContain('steadfast.checkpoint.failed'), { timeout: 5_000, interval: 10 });
          await server.restart();
        }
        // from here on, slow enough for the store to reconnect before the last checkpoints
        if (ctx.offset > 10_000 && ctx.offset % 250 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        return { state: { n: state.n + 1 }, emit: [e] };
      },
    });
    const pipeline = createPipeline({
      name: 'riding',
      source: fromIterable(Array.from({ length: N }, (_, i) => i)),
      stages: [stage],
      sink: toArray<number>(),
      logLevel: 'silent',
      checkpoint: { store: redisStore({ url: server.url, prefix: 'riding:', reconnect }), everyEvents: 500 },
    });
    pipeline.observe((event) => types.push(event.type));
    const stats = await pipeline.run();
    expect(pipeline.stageState<{ n: number }>('count')).toEqual({ n: N });
    expect(stats.checkpoint?.failed).toBeGreaterThanOrEqual(1);
    const firstFailure = types.indexOf('steadfast.checkpoint.failed');
    expect(types.slice(firstFailure).filter((t) => t === 'steadfast.checkpoint.completed').length).toBeGreaterThanOrEqual(1);
    expect(stats.checkpoint?.last?.offset).toBe(N - 1);
  });
});
