import { describe, expect, it } from 'vitest';
import * as steadfast from '../../src/index.js';

describe('the package root', () => {
  it('exports the checkpoint store, FNV-1a 64 and CheckpointStoreError', async () => {
    expect(steadfast.fnv1a64('foobar')).toBe('85944171f73967e8');
    expect(steadfast.fnv1a64Bytes(new Uint8Array(0))).toBe('cbf29ce484222325');
    const store = steadfast.createCheckpointStore();
    await store.writeSnapshot({ pipeline: 'p', stage: 's', version: 1, offset: -1, checkpointId: 'c', createdAt: 0, state: null });
    await store.close();
    const error = await store.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(steadfast.CheckpointStoreError);
    expect(steadfast.isSteadfastError(error, 'CHECKPOINT_STORE_CLOSED')).toBe(true);
  });

  it('exports the checkpoint history: checkpointHistory, readCheckpointStates, forkStore and the JSON diff', async () => {
    const store = steadfast.createCheckpointStore();
    await store.writeSnapshot({ pipeline: 'p', stage: 's', version: 1, offset: 4, checkpointId: 'c1', createdAt: 0, state: { n: 1 } });
    await store.completeCheckpoint({ pipeline: 'p', checkpointId: 'c1', version: 1, offset: 4, createdAt: 0, stages: ['s'] });
    expect((await steadfast.checkpointHistory(store, 'p')).map((r) => [r.checkpointId, r.verified])).toEqual([['c1', true]]);
    const { snapshots } = await steadfast.readCheckpointStates(store, 'p', 'c1');
    expect(snapshots[0]?.read).toMatchObject({ ok: true, value: { state: { n: 1 } } });
    expect(typeof steadfast.forkStore).toBe('function');
    const changes = steadfast.diffJson({ n: 1 }, { n: 2 });
    expect(changes.map((c) => steadfast.formatJsonPath(c.path))).toEqual(['n']);
    expect(steadfast.applyJsonDiff({ n: 1 }, changes)).toEqual({ n: 2 });
    await store.close();
  });
});

describe('the package root, Redis', () => {
  it('exports the Redis store, producer, sink, leases, partitioning and RedisError', () => {
    for (const name of ['redisStore', 'redisStreamProducer', 'toRedisStream', 'PartitionLeases', 'partitionOf', 'assignPartitions', 'partitionsOf', 'RedisError'] as const) {
      expect(typeof steadfast[name]).toBe('function');
    }
    expect(steadfast.partitionOf('foobar', 8)).toBe(0);
    expect(steadfast.redisStore({ url: 'redis://127.0.0.1:6379' }).kind).toBe('redis');
    expect(steadfast.toRedisStream({ url: 'redis://127.0.0.1:6379', stream: 'out' }).name).toBe('redis-stream:out');
    expect(new steadfast.RedisError('REDIS_UNAVAILABLE', 'redis://h', 'down')).toBeInstanceOf(steadfast.SteadfastError);
  });
});
