import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { redisStore } from '../../src/checkpoint/redis-store.js';
import { SinkWriteError, isSteadfastError } from '../../src/core/errors.js';
import { createPipeline, defineStage, fromIterable, type Pipeline } from '../../src/index.js';
import type { Sink } from '../../src/sinks/sink.js';
import { toRedisStream } from '../../src/sinks/to-redis-stream.js';
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

const entries = async (stream: string): Promise<Array<{ id: string; value: unknown }>> =>
  ((await redis.xRange(stream, '-', '+')) ?? []).map(({ message }) => ({ id: message.id as string, value: JSON.parse(message.value as string) as unknown }));

describe('toRedisStream', () => {
  const sinks: Sink[] = [];
  const sink = (stream: string, pipeline?: string): Sink => {
    const made = toRedisStream(pipeline === undefined ? { url: server.url, stream } : { url: server.url, stream, pipeline });
    sinks.push(made);
    return made;
  };
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close?.();
  });

  it('appends one entry per output, with the output as JSON and an id of pipeline, source offset and index among that offset\'s outputs', async () => {
    const s = sink('out1', 'orders');
    await s.open?.();
    await s.write(['a', 'b', { c: 1 }], [0, 0, 1]);
    // the outputs of offset 1 go on in the next batch
    await s.write(['d', 'e'], [1, 2]);
    expect(await entries('out1')).toEqual([
      { id: 'orders:0:0', value: 'a' },
      { id: 'orders:0:1', value: 'b' },
      { id: 'orders:1:0', value: { c: 1 } },
      { id: 'orders:1:1', value: 'd' },
      { id: 'orders:2:0', value: 'e' },
    ]);
  });

  it('gives a replayed output the id it had the first time, so that a consumer can drop it', async () => {
    const first = sink('out2', 'p');
    await first.open?.();
    await first.write([10, 11, 20], [5, 5, 6]);
    // the process dies; after the restore, the source replays offsets 5 and 6 to a new sink
    const again = sink('out2', 'p');
    await again.open?.();
    await again.write([10, 11, 20, 30], [5, 5, 6, 7]);
    const all = await entries('out2');
    expect(all.map((e) => e.id)).toEqual(['p:5:0', 'p:5:1', 'p:6:0', 'p:5:0', 'p:5:1', 'p:6:0', 'p:7:0']);
    const seen = new Set<string>();
    const deduplicated = all.filter((e) => !seen.has(e.id) && seen.add(e.id));
    expect(deduplicated.map((e) => e.value)).toEqual([10, 11, 20, 30]);
  });

  it('reports a value JSON cannot hold with its offset and writes the rest', async () => {
    const s = sink('out3');
    await s.open?.();
    const error = await Promise.resolve(s.write([1, undefined, 3], [0, 1, 2])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).offsets).toEqual([1]);
    expect(await entries('out3')).toEqual([
      { id: 'out3:0:0', value: 1 },
      { id: 'out3:2:0', value: 3 },
    ]);
  });

  it('fails open with one REDIS_UNAVAILABLE naming the server when Redis is down', async () => {
    const s = sink('out4');
    sinks.pop();
    const down = toRedisStream({ url: 'redis://127.0.0.1:1', stream: 'out4' });
    const error = await Promise.resolve(down.open?.()).catch((e: unknown) => e);
    expect(isSteadfastError(error, 'REDIS_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toBe('redis stream sink "out4": Redis at redis://127.0.0.1:1 is unavailable: connect ECONNREFUSED 127.0.0.1:1');
    expect(s.name).toBe('redis-stream:out4');
    expect(() => toRedisStream({ url: server.url, stream: 'a b' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'toRedisStream.stream' }));
  });

  it('is the sink of a pipeline checkpointing to a redis store: a stopped run resumes, and every output is in the stream once after de-duplication', async () => {
    const N = 6_000;
    const numbers = Array.from({ length: N }, (_, i) => i);
    const ref: { pipeline?: Pipeline } = {};
    const twice = (stopAt?: number) =>
      defineStage({
        name: 'twice',
        initialState: () => ({ n: 0 }),
        process: (e: number, state: { n: number }, ctx) => {
          if (ctx.offset === stopAt) void ref.pipeline?.stop();
          return { state: { n: state.n + 1 }, emit: [e, { of: e }] };
        },
      });
    const run = async (stopAt?: number) => {
      const pipeline = (ref.pipeline = createPipeline({
        name: 'doubles',
        source: fromIterable(numbers),
        stages: [twice(stopAt)],
        sink: toRedisStream({ url: server.url, stream: 'doubled', pipeline: 'doubles' }),
        logLevel: 'silent',
        checkpoint: { store: redisStore({ url: server.url, prefix: 'doubles:' }), everyEvents: 500 },
      }));
      const stats = await pipeline.run();
      return { stats, state: pipeline.stageState<{ n: number }>('twice') };
    };
    const first = await run(2_345);
    expect(first.state.n).toBeLessThan(N);
    expect(first.stats.checkpoint?.completed).toBeGreaterThanOrEqual(2);
    const second = await run();
    expect(second.stats.checkpoint?.restored?.offset).toBe(first.state.n - 1);
    expect(second.state.n).toBe(N);
    const all = await entries('doubled');
    const byId = new Map(all.map((e) => [e.id, e.value]));
    expect(byId.size).toBe(2 * N);
    for (let i = 0; i < N; i++) {
      expect(byId.get(`doubles:${i}:0`)).toBe(i);
      expect(byId.get(`doubles:${i}:1`)).toEqual({ of: i });
    }
  });
});
