import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPipeline, defineStage, fromIterable, isSteadfastError, pushSource, toArray, type StageCallError, type SteadfastError } from '../../src/index.js';
import type { AnyStage, StageContext } from '../../src/stage.js';
import { countAbortControllers } from '../resilience/abort-controllers.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

/** What a call saw of its signal: aborted or not at the end of the run, and why. */
interface Seen {
  n: number;
  signal: AbortSignal;
}

const never = <T>() => new Promise<T>(() => {});
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);
const reasons = (seen: Seen[]) => seen.map(({ n, signal }) => [n, signal.aborted, signal.aborted ? (signal.reason as Error).name : undefined]);
const report = (errors: SteadfastError[]) => errors.map((e) => [e.code, (e as StageCallError).offsets]);

afterEach(() => {
  vi.useRealTimers();
});

describe('ctx.signal of a stage with timeoutMs', () => {
  it('aborts the signal of a call that overruns its deadline with onFailure resume; the next call gets a fresh one', async () => {
    vi.useFakeTimers();
    const seen: Seen[] = [];
    const hangs = defineStage({
      name: 'hangs',
      timeoutMs: 100,
      onFailure: 'resume',
      process: (n: number, _s: undefined, ctx: StageContext) => {
        seen.push({ n, signal: ctx.signal });
        return n === 2 ? never<{ emit: number[] }>() : Promise.resolve({ emit: [n] });
      },
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const run = createPipeline({ name: 'sig', source: fromIterable([1, 2, 3]), stages: [hangs], sink, mode: 'debug', onError: (e) => errors.push(e), logLevel: 'silent' }).run();
    await vi.advanceTimersByTimeAsync(99);
    expect(seen.map((s) => [s.n, s.signal.aborted])).toEqual([[1, false], [2, false]]);
    await vi.advanceTimersByTimeAsync(1);
    await run;
    expect(sink.items).toEqual([1, 3]);
    expect(report(errors)).toEqual([['STAGE_TIMEOUT', [1]]]);
    expect(reasons(seen)).toEqual([[1, false, undefined], [2, true, 'TimeoutError'], [3, false, undefined]]);
    expect(isSteadfastError(seen[1]?.signal.reason, 'TIMEOUT')).toBe(true);
    expect(new Set(seen.map((s) => s.signal)).size).toBe(3);
  });

  it('aborts the signal of each retry attempt at its deadline and gives the next attempt a fresh one', async () => {
    vi.useFakeTimers();
    const seen: Seen[] = [];
    let attempts = 0;
    const flaky = defineStage({
      name: 'flaky',
      timeoutMs: 50,
      retry: { maxAttempts: 3, baseMs: 10, jitter: 0 },
      process: (n: number, _s: undefined, ctx: StageContext) => {
        seen.push({ n, signal: ctx.signal });
        // Event 1 hangs on its first two attempts.
        return n === 1 && ++attempts <= 2 ? never<{ emit: number[] }>() : Promise.resolve({ emit: [n] });
      },
    });
    const sink = toArray<number>();
    const errors: SteadfastError[] = [];
    const run = createPipeline({ name: 'sig', source: fromIterable([0, 1, 2]), stages: [flaky], sink, mode: 'debug', onError: (e) => errors.push(e), logLevel: 'silent' }).run();
    await vi.advanceTimersByTimeAsync(50);
    expect(reasons(seen)).toEqual([[0, false, undefined], [1, true, 'TimeoutError']]);
    await vi.advanceTimersByTimeAsync(1_000);
    const stats = await run;
    expect(sink.items).toEqual([0, 1, 2]);
    expect(errors).toEqual([]);
    expect(stats.stages.flaky?.resilience?.retries).toBe(2);
    expect(reasons(seen)).toEqual([
      [0, false, undefined],
      [1, true, 'TimeoutError'],
      [1, true, 'TimeoutError'],
      [1, false, undefined],
      [2, false, undefined],
    ]);
    expect(new Set(seen.map((s) => s.signal)).size).toBe(5);
  });

  it('aborts the signal at the deadline for a stage with a breaker and onFailure resume, and for processBatch', async () => {
    vi.useFakeTimers();
    const seen: Seen[] = [];
    const guarded = defineStage({
      name: 'guarded',
      timeoutMs: 30,
      onFailure: 'resume',
      breaker: { consecutiveFailures: 5 },
      process: (n: number, _s: undefined, ctx: StageContext) => {
        seen.push({ n, signal: ctx.signal });
        return n === 1 ? never<{ emit: number[] }>() : Promise.resolve({ emit: [n] });
      },
    });
    const batches: Seen[] = [];
    const batched = defineStage({
      name: 'batched',
      timeoutMs: 30,
      onFailure: 'resume',
      processBatch: (events: readonly number[], _s: undefined, ctx: StageContext) => {
        batches.push({ n: events[0] as number, signal: ctx.signal });
        return events.includes(1) ? never<{ emit: number[] }>() : Promise.resolve({ emit: [...events] });
      },
    });
    for (const [stage, log] of [[guarded, seen], [batched, batches]] as const) {
      const errors: SteadfastError[] = [];
      const sink = toArray<number>();
      const run = createPipeline({ name: 'sig', source: fromIterable([0, 1, 2]), stages: [stage], sink, mode: 'debug', onError: (e) => errors.push(e), logLevel: 'silent' }).run();
      await vi.advanceTimersByTimeAsync(100);
      await run;
      expect(sink.items, stage.name).toEqual([0, 2]);
      expect(report(errors), stage.name).toEqual([['STAGE_TIMEOUT', [1]]]);
      expect(reasons(log), stage.name).toEqual([[0, false, undefined], [1, true, 'TimeoutError'], [2, false, undefined]]);
    }
  });

  it('still aborts the call signal when the stage is abandoned (stop past its budget), with or without retry', async () => {
    for (const retry of [undefined, { maxAttempts: 2, baseMs: 1 }]) {
      const before = activeResources();
      const seen: Seen[] = [];
      const slow = defineStage({
        name: 'slow',
        timeoutMs: 60_000,
        ...(retry === undefined ? {} : { retry }),
        process: (n: number, _s: undefined, ctx: StageContext) => {
          seen.push({ n, signal: ctx.signal });
          return never<{ emit: number[] }>();
        },
      });
      const source = pushSource<number>();
      const pipeline = createPipeline({ name: 'sig', source, stages: [slow], sink: toArray(), logLevel: 'silent' });
      await pipeline.start();
      await source.push(1);
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      const stopped = await pipeline.stop({ timeoutMs: 20 }).then(() => undefined, (error: unknown) => error);
      expect(isSteadfastError(stopped, 'STOP_TIMEOUT')).toBe(true);
      expect(seen[0]?.signal.aborted).toBe(true);
      expect(isSteadfastError(seen[0]?.signal.reason, 'STOP_TIMEOUT')).toBe(true);
      await settle();
      expect(leakedSince(before)).toEqual({});
    }
  });

  it('makes no AbortController per call for a stage without timeoutMs (ctx and ctx.signal are the node\'s)', async () => {
    const made = async (stage: AnyStage, events: number): Promise<number> => {
      const counted = countAbortControllers();
      try {
        const sink = toArray<number>();
        await createPipeline({ name: 'sig', source: fromIterable(numbers(events)), stages: [stage], sink, mode: 'debug', logLevel: 'silent' }).run();
        expect(sink.items).toHaveLength(events);
      } finally {
        counted.restore();
      }
      return counted.made;
    };
    for (const retry of [undefined, { maxAttempts: 2, baseMs: 1 }]) {
      const contexts = new Set<StageContext>();
      const signals = new Set<AbortSignal>();
      const stage = defineStage({
        name: 'plain',
        ...(retry === undefined ? {} : { retry }),
        process: async (n: number, _s: undefined, ctx: StageContext) => {
          contexts.add(ctx);
          signals.add(ctx.signal);
          return { emit: [n] };
        },
      });
      // What the pipeline itself makes does not grow with the number of calls.
      expect(await made(stage, 40), `retry ${retry !== undefined}`).toBe(await made(stage, 2));
      expect([contexts.size, signals.size]).toEqual([2, 2]); // one per run
    }
  });

  it('makes an AbortController only for the calls that read ctx.signal', async () => {
    const reads = defineStage({
      name: 'reads',
      timeoutMs: 1_000,
      process: async (n: number, _s: undefined, ctx: StageContext) => {
        if (n % 2 === 0) expect(ctx.signal.aborted).toBe(false);
        return { emit: [n] };
      },
    });
    const made = async (events: number): Promise<number> => {
      const counted = countAbortControllers();
      try {
        await createPipeline({ name: 'sig', source: fromIterable(numbers(events)), stages: [reads], sink: toArray(), mode: 'debug', logLevel: 'silent' }).run();
      } finally {
        counted.restore();
      }
      return counted.made;
    };
    // 20 events read the signal 10 times, 2 events once.
    expect((await made(20)) - (await made(2))).toBe(9);
  });
});
