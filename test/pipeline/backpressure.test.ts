import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPipeline, defineStage, fromIterable, isSteadfastError, pushSource, toArray, type StageCallError, type SteadfastError } from '../../src/index.js';
import type { StageBreakerOptions } from '../../src/stage.js';

const report = (errors: SteadfastError[]) => errors.map((e) => [e.code, (e as StageCallError).offsets]);

/** A dependency down until `upAt` (ms on the faked clock; Infinity: never back), recording the events it was called with. */
function dependency(upAt: number) {
  const calls: number[] = [];
  const start = Date.now();
  return {
    calls,
    up: () => Date.now() - start >= upAt,
    call: async (n: number) => {
      calls.push(n);
      if (Date.now() - start < upAt) throw new Error(`dependency down (event ${n})`);
      return n * 10;
    },
  };
}

function holding(breaker: StageBreakerOptions, call: (n: number) => Promise<number>, retry?: { maxAttempts: number; baseMs: number; jitter: number }) {
  return defineStage({
    name: 'hold',
    breaker,
    degraded: 'backpressure',
    ...(retry === undefined ? {} : { retry }),
    process: async (n: number) => ({ emit: [await call(n)] }),
  });
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("degraded: 'backpressure'", () => {
  it('drops nothing: the events that fail while the breaker is still closed are held and tried again', async () => {
    const dep = dependency(100);
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'bp',
      source: fromIterable([1, 2, 3, 4, 5]),
      stages: [holding({ consecutiveFailures: 2, openMs: 30 }, dep.call)],
      sink,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    });
    const run = pipeline.run();
    await vi.advanceTimersByTimeAsync(1_000);
    const stats = await run;
    expect(sink.items).toEqual([10, 20, 30, 40, 50]);
    expect(errors).toEqual([]);
    expect(stats.stages.hold?.restarts).toBe(0);
    expect(stats.stages.hold?.resilience?.breaker).toBe('closed');
    // Event 1 was tried until the dependency came back (two failures trip the breaker, then probes).
    expect(dep.calls.filter((n) => n !== 1)).toEqual([2, 3, 4, 5]);
    expect(dep.calls.filter((n) => n === 1).length).toBeGreaterThanOrEqual(3);
    expect(stats.stages.hold?.resilience?.retries).toBe(dep.calls.length - 5);
  });

  it('drops nothing with a retry whose attempts run out before the breaker trips', async () => {
    const dep = dependency(200);
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const run = createPipeline({
      name: 'bp',
      source: fromIterable([1, 2, 3]),
      stages: [holding({ consecutiveFailures: 5, openMs: 40 }, dep.call, { maxAttempts: 2, baseMs: 1, jitter: 0 })],
      sink,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    }).run();
    await vi.advanceTimersByTimeAsync(2_000);
    await run;
    expect(sink.items).toEqual([10, 20, 30]);
    expect(errors).toEqual([]);
  });

  it('waits for a dependency that never comes back, and stop() still ends within its budget, leaving no timer', async () => {
    const dep = dependency(Infinity);
    const errors: SteadfastError[] = [];
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'bp', source, stages: [holding({ consecutiveFailures: 2, openMs: 50 }, dep.call)], sink, onError: (e) => errors.push(e), logLevel: 'silent' });
    await pipeline.start();
    for (const n of [1, 2, 3]) await source.push(n);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sink.items).toEqual([]);
    expect(errors).toEqual([]);
    expect(new Set(dep.calls)).toEqual(new Set([1])); // held in order: nothing after it was tried
    expect(pipeline.breakers.get('bp.hold')?.state).toBe('open');
    const t0 = Date.now();
    const stopping = pipeline.stop({ timeoutMs: 500 }).then(() => undefined, (error: unknown) => error);
    await vi.advanceTimersByTimeAsync(500);
    const stopped = await stopping;
    expect(Date.now() - t0).toBeLessThanOrEqual(500);
    expect(isSteadfastError(stopped, 'STOP_TIMEOUT')).toBe(true);
    const calls = dep.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(dep.calls.length).toBe(calls); // the held call gave up with the stage
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails an event at once when its error is one the breaker does not count (not the dependency)', async () => {
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const invalid = new Error('invalid input');
    const stage = defineStage({
      name: 'hold',
      onFailure: 'resume',
      breaker: { consecutiveFailures: 2, openMs: 30, isFailure: (e) => e !== invalid },
      degraded: 'backpressure',
      process: (n: number) => {
        if (n === 2) throw invalid;
        return { emit: [n] };
      },
    });
    const run = createPipeline({ name: 'bp', source: fromIterable([1, 2, 3]), stages: [stage], sink, onError: (e) => errors.push(e), logLevel: 'silent' }).run();
    await vi.advanceTimersByTimeAsync(100);
    await run;
    expect(sink.items).toEqual([1, 3]);
    expect(report(errors)).toEqual([['STAGE_CALL_FAILED', [1]]]);
  });

  it('holds a poison event the breaker counts but never trips on, with growing pauses, and warns once', async () => {
    const records: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => records.push(JSON.parse(line) as { level: number; msg: string }) });
    let poisoned = true;
    const calls: number[] = [];
    const stage = defineStage({
      name: 'hold',
      // Trips on slow calls only: failures alone never open it.
      breaker: { slowCallRate: 0.5, slowCallMs: 10_000, openMs: 1_000 },
      degraded: 'backpressure',
      process: (n: number) => {
        calls.push(n);
        if (n === 2 && poisoned) throw new Error('poison');
        return { emit: [n] };
      },
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const run = createPipeline({ name: 'bp', source: fromIterable([1, 2, 3]), stages: [stage], sink, logger, onError: (e) => errors.push(e) }).run();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.items).toEqual([1]);
    expect(errors).toEqual([]);
    // Pauses of 1, 2, 4 … 512 ms, then openMs (1 s): about 60 tries in a minute, not thousands.
    const tries = calls.filter((n) => n === 2).length;
    expect(tries).toBeGreaterThan(50);
    expect(tries).toBeLessThan(80);
    const warnings = records.filter((r) => r.level === 40 && r.msg.includes('may be poison'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain('offset 1 failed 10 times in a row while breaker "bp.hold" stayed closed');
    // Once it can be processed, it goes through, then the rest.
    poisoned = false;
    await vi.advanceTimersByTimeAsync(1_000);
    await run;
    expect(sink.items).toEqual([1, 2, 3]);
    expect(errors).toEqual([]);
  });

  it('treats a CircuitOpenError of another breaker (one in the stage\'s own code) as a failure: pauses, no spinning', async () => {
    const { circuitBreaker } = await import('../../src/index.js');
    const inner = circuitBreaker({ name: 'inner', registry: null, consecutiveFailures: 1, openMs: 60_000 });
    inner.forceOpen();
    let calls = 0;
    const stage = defineStage({
      name: 'hold',
      // Failures never trip this one: the held event waits with pauses of 1, 2, 4 … ms.
      breaker: { slowCallRate: 0.5, slowCallMs: 10_000, openMs: 1_000 },
      degraded: 'backpressure',
      process: async (n: number) => {
        calls++;
        // Were the refusal taken for the stage breaker's (closed: "calls pass"), it would be retried at once, without end.
        if (calls > 1_000) return { emit: [n] };
        return { emit: [await inner.execute(() => n)] };
      },
    });
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'bp', source, stages: [stage], sink: toArray(), logLevel: 'silent' });
    await pipeline.start();
    await source.push(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBeGreaterThanOrEqual(6);
    expect(calls).toBeLessThanOrEqual(9);
    const stopped = pipeline.stop({ timeoutMs: 50 }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50);
    expect(isSteadfastError(await stopped, 'STOP_TIMEOUT')).toBe(true);
    inner.dispose();
  });
});
