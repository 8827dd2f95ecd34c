import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, isSteadfastError, toArray, type StageCallError, type SteadfastError } from '../../src/index.js';

const input = Array.from({ length: 40 }, (_, i) => i);
const quick = { maxAttempts: 3, baseMs: 1, maxDelayMs: 2, jitter: 0 };

/** A dependency that is down for the events in `down` (every attempt fails), and flaky on the others for `flakyAttempts` attempts. */
function dependency(down: (n: number) => boolean, flakyAttempts = 0) {
  const attempts = new Map<number, number>();
  return (n: number) => {
    const attempt = (attempts.get(n) ?? 0) + 1;
    attempts.set(n, attempt);
    if (down(n) || attempt <= flakyAttempts) return Promise.reject(new Error(`dependency failed on ${n}`));
    return Promise.resolve(n * 10);
  };
}

describe('stage resilience', () => {
  it('retries a flaky call in place: every event succeeds, nothing is reported, retries are counted', async () => {
    const call = dependency(() => false, 2);
    const stage = defineStage({ name: 'flaky', retry: quick, process: async (n: number) => ({ emit: [await call(n)] }) });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const stats = await createPipeline({ name: 'retrying', source: fromIterable(input), stages: [stage], sink, onError: (e) => errors.push(e), logLevel: 'silent' }).run();
    expect(sink.items).toEqual(input.map((n) => n * 10));
    expect(errors).toEqual([]);
    expect(stats.stages.flaky?.resilience?.retries).toBe(80);
    expect(stats.stages.flaky?.restarts).toBe(0);
  });

  it('passes events through while the breaker is open (skip), and reports none of them', async () => {
    const call = dependency((n) => n >= 10);
    const stage = defineStage({
      name: 'enrich',
      breaker: { consecutiveFailures: 3, openMs: 60_000 },
      degraded: 'skip',
      process: async (n: number) => ({ emit: [await call(n)] }),
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'skipping', source: fromIterable(input), stages: [stage], sink, onError: (e) => errors.push(e), logLevel: 'silent' });
    const stats = await pipeline.run();
    expect(sink.items).toEqual([...input.slice(0, 10).map((n) => n * 10), ...input.slice(10)]);
    expect(errors).toEqual([]);
    expect(stats.stages.enrich?.resilience).toMatchObject({ degraded: 30, breaker: 'open' });
    expect(pipeline.breakers.list()).toEqual([]); // disposed with the pipeline
  });

  it('uses the fallback function while degraded, with the stage state', async () => {
    const call = dependency((n) => n % 2 === 1);
    const stage = defineStage({
      name: 'price',
      initialState: () => ({ fallbacks: 0 }),
      retry: { ...quick, maxAttempts: 2 },
      degraded: { fallback: (n: number, s: { fallbacks: number }) => ({ state: { fallbacks: s.fallbacks + 1 }, emit: [-n] }) },
      process: async (n: number, s: { fallbacks: number }) => ({ state: s, emit: [await call(n)] }),
    });
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'fallback', source: fromIterable(input), stages: [stage], sink, logLevel: 'silent' });
    await pipeline.run();
    expect(sink.items).toEqual(input.map((n) => (n % 2 === 1 ? -n : n * 10)));
    expect(pipeline.stageState('price')).toEqual({ fallbacks: 20 });
  });

  it('serves the last good outputs of a key from the cache while degraded, and fails on a key never seen', async () => {
    const stage = defineStage({
      name: 'lookup',
      onFailure: 'resume',
      breaker: { consecutiveFailures: 1, openMs: 60_000 },
      degraded: { cache: { key: (n: number) => n % 5, size: 3 } },
      process: async (n: number) => {
        if (n === 99) throw new Error('lookup down');
        return { emit: [`fresh ${n}`] };
      },
    });
    const events = [0, 1, 2, 3, 99, 5, 6, 7, 8];
    const errors: StageCallError[] = [];
    const sink = toArray<string>();
    await createPipeline({
      name: 'cache',
      source: fromIterable(events),
      stages: [stage],
      sink,
      mode: 'debug',
      onError: (e) => errors.push(e as StageCallError),
      logLevel: 'silent',
    }).run();
    // Keys 0..3 were cached (size 3 keeps 1, 2, 3); 99 (key 4) opens the breaker and was never cached.
    expect(sink.items).toEqual(['fresh 0', 'fresh 1', 'fresh 2', 'fresh 3', 'fresh 1', 'fresh 2', 'fresh 3']);
    expect(errors.map((e) => e.offsets[0])).toEqual([4, 5]);
  });

  it('sends events to the dead letters while degraded and goes on with the state kept', async () => {
    const call = dependency((n) => n >= 30);
    const stage = defineStage({
      name: 'store',
      initialState: () => ({ stored: 0 }),
      retry: { ...quick, maxAttempts: 2 },
      degraded: 'deadLetter',
      process: async (n: number, s: { stored: number }) => {
        await call(n);
        return { state: { stored: s.stored + 1 } };
      },
    });
    const errors: SteadfastError[] = [];
    const pipeline = createPipeline({ name: 'dlq', source: fromIterable(input), stages: [stage], onError: (e) => errors.push(e), logLevel: 'silent' });
    const stats = await pipeline.run();
    expect(pipeline.stageState('store')).toEqual({ stored: 30 });
    expect(errors).toHaveLength(10);
    expect(errors.every((e) => isSteadfastError(e, 'DEAD_LETTER'))).toBe(true);
    expect((errors[0] as StageCallError).events).toEqual([30]);
    expect(stats.stages.store?.resilience?.deadLetters).toBe(10);
  });

  it('holds input while the breaker is open (backpressure) and handles every event once it recovers', async () => {
    let healthyAt = 0;
    const stage = defineStage({
      name: 'slowdb',
      breaker: { consecutiveFailures: 2, openMs: 20, halfOpenMaxCalls: 1 },
      degraded: 'backpressure',
      process: async (n: number) => {
        if (n === 15 && healthyAt === 0) healthyAt = Date.now() + 50;
        if (healthyAt !== 0 && Date.now() < healthyAt) throw new Error('db down');
        return { emit: [n] };
      },
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const stats = await createPipeline({ name: 'hold', source: fromIterable(input), stages: [stage], sink, onError: (e) => errors.push(e), logLevel: 'silent' }).run();
    // Nothing dropped, in order: the calls that tripped the breaker were held and tried again too.
    expect(sink.items).toEqual(input);
    expect(errors).toEqual([]);
    expect(stats.stages.slowdb?.resilience?.breaker).toBe('closed');
  });

  it('picks skip for a stateless stage in auto mode', async () => {
    const stage = defineStage({
      name: 'auto',
      retry: { ...quick, maxAttempts: 1 },
      degraded: 'auto',
      process: (n: number) => {
        if (n % 4 === 0) throw new Error('no');
        return { emit: [n + 1000] };
      },
    });
    const sink = toArray<number>();
    await createPipeline({ name: 'auto', source: fromIterable(input), stages: [stage], sink, logLevel: 'silent' }).run();
    expect(sink.items).toEqual(input.map((n) => (n % 4 === 0 ? n : n + 1000)));
  });

  it('checks resilience options when the stage is defined', () => {
    const fieldOf = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(isSteadfastError(e, 'CONFIG_INVALID')).toBe(true);
        return (e as { field: string }).field;
      }
      throw new Error('expected CONFIG_INVALID');
    };
    const process = (n: number) => ({ emit: [n] });
    expect(fieldOf(() => defineStage({ name: 's', process, degraded: 'skip' }))).toBe('stage "s".degraded');
    expect(fieldOf(() => defineStage({ name: 's', process, breaker: { consecutiveFailures: 0 } }))).toBe('stage "s".breaker.consecutiveFailures');
    expect(fieldOf(() => defineStage({ name: 's', process, breaker: { name: 'x' } as never }))).toBe('stage "s".breaker.name');
    expect(fieldOf(() => defineStage({ name: 's', process, retry: { maxAttempts: 0 } }))).toMatch(/maxAttempts/);
    expect(fieldOf(() => defineStage({ name: 's', process, breaker: true, degraded: 'panic' as never }))).toBe('stage "s".degraded');
    expect(fieldOf(() => defineStage({ name: 's', process, retry: quick, degraded: 'backpressure' }))).toBe('stage "s".degraded');
    expect(fieldOf(() => defineStage({ name: 's', process, retry: quick, isolation: 'thread', module: import.meta.url }))).toBe('stage "s".retry');
  });
});
