import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  BulkheadRejectedError,
  CircuitOpenError,
  ConfigError,
  RetryExhaustedError,
  TimeoutError,
} from '../../src/core/errors.js';
import { retry, retryAndContinue } from '../../src/resilience/retry.js';
import { defaultRetryOn, type RetryInfo, type RetryOptions } from '../../src/resilience/retry-options.js';
import { expectConfigError } from '../helpers/config-error.js';

const flush = () => vi.advanceTimersByTimeAsync(0);
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** Work that fails `failures` times (recording when each attempt started), then resolves 'ok'. */
function flaky(failures: number) {
  const starts: number[] = [];
  const work = vi.fn(async () => {
    starts.push(performance.now());
    if (starts.length <= failures) throw new Error(`fail ${starts.length}`);
    return 'ok';
  });
  return { work, starts };
}

/** The delays a policy waits through until `maxAttempts` is spent, as onRetry reports them. */
async function delays(options: Omit<RetryOptions, 'onRetry'>): Promise<number[]> {
  const seen: number[] = [];
  const policy = retry({ ...options, onRetry: (info) => seen.push(info.delayMs) });
  const done = policy.execute(() => Promise.reject(new Error('no'))).catch(() => undefined);
  await vi.runAllTimersAsync();
  await done;
  return seen;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('backoff', () => {
  it('grows exponentially, base · factor^n, up to maxDelayMs', async () => {
    expect(await delays({ maxAttempts: 7, baseMs: 100, maxDelayMs: 1_000, jitter: 0 })).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(await delays({ maxAttempts: 4, baseMs: 10, factor: 3, jitter: 0 })).toEqual([10, 30, 90]);
  });

  it('grows linearly, base · (n + 1), up to maxDelayMs', async () => {
    expect(await delays({ maxAttempts: 6, backoff: 'linear', baseMs: 100, maxDelayMs: 350, jitter: 0 })).toEqual([100, 200, 300, 350, 350]);
  });

  it('stays at base for constant backoff', async () => {
    expect(await delays({ maxAttempts: 4, backoff: 'constant', baseMs: 250, jitter: 0 })).toEqual([250, 250, 250]);
  });

  it('follows decorrelated jitter, min(maxDelayMs, random in [base, previous · 3])', async () => {
    const options = { maxAttempts: 6, backoff: 'decorrelated' as const, baseMs: 100, maxDelayMs: 5_000 };
    expect(await delays({ ...options, random: () => 0 })).toEqual([100, 100, 100, 100, 100]);
    expect(await delays({ ...options, random: () => 1 })).toEqual([300, 900, 2_700, 5_000, 5_000]);
    expect(await delays({ ...options, random: () => 0.5 })).toEqual([200, 350, 575, 912.5, 1_418.75]);
  });

  it('waits exactly the computed delay before each attempt', async () => {
    const { work, starts } = flaky(3);
    const result = retry({ maxAttempts: 4, baseMs: 100, jitter: 0 }).execute(work);
    await flush();
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(99);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([0, 100]);
    await vi.advanceTimersByTimeAsync(600);
    expect(starts).toEqual([0, 100, 300, 700]);
    await expect(result).resolves.toBe('ok');
  });

  it('keeps jittered delays within [d · (1 − jitter), d] for the first three kinds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('exponential' as const, 'linear' as const, 'constant' as const),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 5, maxLength: 5 }),
        async (backoff, jitter, draws) => {
          const queue = [...draws];
          const plain = await delays({ maxAttempts: 6, backoff, baseMs: 100, maxDelayMs: 1_000, jitter: 0 });
          const jittered = await delays({ maxAttempts: 6, backoff, baseMs: 100, maxDelayMs: 1_000, jitter, random: () => queue.shift() ?? 0 });
          jittered.forEach((d, i) => {
            const top = plain[i] as number;
            expect(d).toBeLessThanOrEqual(top);
            expect(d).toBeGreaterThanOrEqual(top * (1 - jitter) - 1e-9);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps decorrelated delays within [base, min(maxDelayMs, previous · 3)]', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.double({ min: -0.5, max: 1.5, noNaN: true }), { minLength: 8, maxLength: 8 }),
        async (baseMs, extra, draws) => {
          const maxDelayMs = baseMs + extra;
          const queue = [...draws];
          const seen = await delays({ maxAttempts: 9, backoff: 'decorrelated', baseMs, maxDelayMs, random: () => queue.shift() ?? 0 });
          let previous = baseMs;
          for (const d of seen) {
            expect(d).toBeGreaterThanOrEqual(baseMs);
            expect(d).toBeLessThanOrEqual(Math.min(maxDelayMs, previous * 3));
            previous = d;
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('attempts', () => {
  it('resolves with the first success, telling onRetry about each failure before it', async () => {
    const { work } = flaky(2);
    const infos: RetryInfo[] = [];
    const result = retry({ maxAttempts: 5, baseMs: 10, jitter: 0, onRetry: (info) => infos.push(info) }).execute(work);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(work).toHaveBeenCalledTimes(3);
    expect(infos.map(({ attempt, delayMs }) => ({ attempt, delayMs }))).toEqual([
      { attempt: 1, delayMs: 10 },
      { attempt: 2, delayMs: 20 },
    ]);
    expect((infos[0]?.error as Error).message).toBe('fail 1');
  });

  it('makes exactly maxAttempts attempts, then rejects with RetryExhaustedError (attempts, cause = last error)', async () => {
    const { work } = flaky(10);
    const result = retry({ maxAttempts: 3, baseMs: 10 }).execute(work);
    const outcome = result.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = (await outcome) as RetryExhaustedError;
    expect(work).toHaveBeenCalledTimes(3);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(error.code).toBe('RETRY_EXHAUSTED');
    expect(error.attempts).toBe(3);
    expect((error.cause as Error).message).toBe('fail 3');
    expect(error.message).toBe('gave up after 3 attempts: fail 3');
  });

  it('makes a single attempt with maxAttempts 1 and still reports exhaustion', async () => {
    const { work } = flaky(1);
    await expect(retry({ maxAttempts: 1 }).execute(work)).rejects.toMatchObject({ code: 'RETRY_EXHAUSTED', attempts: 1 });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('retries synchronous throws and resolves synchronous values', async () => {
    let calls = 0;
    const result = retry({ maxAttempts: 3, baseMs: 0 }).execute(() => {
      calls++;
      if (calls < 3) throw new Error('sync');
      return 42;
    });
    await flush();
    await expect(result).resolves.toBe(42);
    await expect(retry({ maxAttempts: 2 }).execute(() => 'now')).resolves.toBe('now');
  });

  it('retries at once (no timer) when the delay is 0', async () => {
    const { work } = flaky(2);
    const result = retry({ maxAttempts: 3, baseMs: 0 }).execute(work);
    expect(vi.getTimerCount()).toBe(0);
    await expect(result).resolves.toBe('ok');
  });
});

describe('retryOn', () => {
  it('rethrows a refused error as is, after asking with the error and the attempt number', async () => {
    const refused = new Error('bad request');
    const retryOn = vi.fn((error: unknown, attempt: number) => attempt < 2 && error !== refused);
    let calls = 0;
    const result = retry({ maxAttempts: 5, baseMs: 1, retryOn }).execute(async () => {
      calls++;
      throw calls === 1 ? new Error('transient') : refused;
    });
    const outcome = result.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await outcome).toBe(refused);
    expect(retryOn.mock.calls.map(([, attempt]) => attempt)).toEqual([1, 2]);
  });

  it('by default retries any error but aborts, open circuits, full bulkheads, nested exhaustion and config errors', () => {
    expect(defaultRetryOn(new Error('x'))).toBe(true);
    expect(defaultRetryOn('a string')).toBe(true);
    expect(defaultRetryOn(new TimeoutError(10))).toBe(true);
    expect(defaultRetryOn(new AbortedError())).toBe(false);
    expect(defaultRetryOn(new CircuitOpenError('b', 'open', 10))).toBe(false);
    expect(defaultRetryOn(new BulkheadRejectedError(1, 0))).toBe(false);
    expect(defaultRetryOn(new RetryExhaustedError(2, new Error('x')))).toBe(false);
    expect(defaultRetryOn(new ConfigError('f', 1, 'must be 2'))).toBe(false);
  });

  it('rejects with what retryOn or onRetry throws', async () => {
    const boom = new Error('predicate bug');
    await expect(retry({ maxAttempts: 3, retryOn: () => { throw boom; } }).execute(() => Promise.reject(new Error('x')))).rejects.toBe(boom);
    const hook = new Error('hook bug');
    await expect(retry({ maxAttempts: 3, onRetry: () => { throw hook; } }).execute(() => Promise.reject(new Error('x')))).rejects.toBe(hook);
  });
});

describe('abort', () => {
  it('stops a retry waiting for its delay at once with AbortedError and clears its timer', async () => {
    const { work } = flaky(10);
    const controller = new AbortController();
    const result = retry({ maxAttempts: 5, baseMs: 1_000 }).execute(work, controller.signal);
    const outcome = result.catch((error: unknown) => error);
    await flush();
    expect(vi.getTimerCount()).toBe(1);
    controller.abort('shutdown');
    expect(vi.getTimerCount()).toBe(0);
    const error = (await outcome) as AbortedError;
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.cause).toBe('shutdown');
    await vi.runAllTimersAsync();
    expect(work).toHaveBeenCalledTimes(1);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('stops during an attempt at once, aborting the work\'s signal, and makes no further attempt', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const work = vi.fn((signal: AbortSignal) => {
      seen = signal;
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled'))));
    });
    const result = retry({ maxAttempts: 5, baseMs: 1 }).execute(work, controller.signal);
    controller.abort();
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    expect(seen?.aborted).toBe(true);
    await vi.runAllTimersAsync();
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('never calls the work when the signal is already aborted', async () => {
    const work = vi.fn(() => 1);
    await expect(retry({ maxAttempts: 3 }).execute(work, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    await expect(retry({ maxAttempts: 3, signal: AbortSignal.abort() }).execute(work)).rejects.toBeInstanceOf(AbortedError);
    expect(work).not.toHaveBeenCalled();
  });

  it('stops every call of the policy when options.signal aborts', async () => {
    const shutdown = new AbortController();
    const policy = retry({ maxAttempts: 5, baseMs: 1_000, signal: shutdown.signal });
    const calls = [policy.execute(() => Promise.reject(new Error('x'))), policy.execute(() => Promise.reject(new Error('y')))];
    const outcomes = Promise.allSettled(calls);
    await flush();
    shutdown.abort();
    const settled = await outcomes;
    expect(settled.map((s) => s.status === 'rejected' && s.reason instanceof AbortedError)).toEqual([true, true]);
    expect(listeners(shutdown.signal)).toBe(0);
  });

  it('gives work that asks for a signal one that aborts with either the policy\'s or the caller\'s signal', async () => {
    const shutdown = new AbortController();
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = retry({ maxAttempts: 2, signal: shutdown.signal }).execute((signal) => {
      seen = signal;
      return new Promise(() => undefined);
    }, caller.signal);
    expect(seen).not.toBe(caller.signal);
    caller.abort('mine');
    await expect(result).rejects.toMatchObject({ code: 'ABORTED', cause: 'mine' });
    expect(seen?.reason).toBe('mine');
    expect(listeners(shutdown.signal) + listeners(caller.signal)).toBe(0);
  });

  it('passes the caller\'s signal through, and invents one only for work that asks and has none', async () => {
    const controller = new AbortController();
    const seen: unknown[][] = [];
    await retry({ maxAttempts: 1 }).execute((signal) => seen.push([signal]), controller.signal);
    await retry({ maxAttempts: 1 }).execute((...args: unknown[]) => seen.push(args), controller.signal);
    await retry({ maxAttempts: 1 }).execute((signal) => seen.push([signal]));
    expect(seen[0]?.[0]).toBe(controller.signal);
    expect(seen[1]).toEqual([]);
    expect(seen[2]?.[0]).toBeInstanceOf(AbortSignal);
  });

  it('leaves no listener on the caller\'s signal after many calls that retried', async () => {
    const controller = new AbortController();
    const policy = retry({ maxAttempts: 3, baseMs: 5, jitter: 0 });
    for (let i = 0; i < 50; i++) {
      const result = policy.execute(flaky(2).work, controller.signal);
      expect(listeners(controller.signal)).toBe(1);
      await vi.runAllTimersAsync();
      await result;
    }
    expect(listeners(controller.signal)).toBe(0);
  });
});

describe('retryAndContinue', () => {
  it('resolves with the default after exhaustion and tells onExhausted', async () => {
    const onExhausted = vi.fn();
    const { work } = flaky(10);
    const result = retryAndContinue(work, { maxAttempts: 3, baseMs: 10, default: 'fallback', onExhausted });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('fallback');
    expect(work).toHaveBeenCalledTimes(3);
    expect(onExhausted).toHaveBeenCalledTimes(1);
    expect(onExhausted.mock.calls[0]?.[0]).toMatchObject({ code: 'RETRY_EXHAUSTED', attempts: 3 });
  });

  it('resolves with the work\'s value when an attempt succeeds, without telling onExhausted', async () => {
    const onExhausted = vi.fn();
    const result = retryAndContinue(flaky(1).work, { maxAttempts: 3, baseMs: 10, default: null, onExhausted });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(onExhausted).not.toHaveBeenCalled();
  });

  it('still rejects a refused error and an abort', async () => {
    const refused = new Error('refused');
    await expect(retryAndContinue(() => Promise.reject(refused), { maxAttempts: 3, retryOn: () => false, default: 0 })).rejects.toBe(refused);
    await expect(retryAndContinue(() => 1, { maxAttempts: 3, signal: AbortSignal.abort(), default: 0 })).rejects.toBeInstanceOf(AbortedError);
  });

  it('accepts undefined as an explicit default and rejects a missing one', async () => {
    const result = retryAndContinue(() => Promise.reject(new Error('x')), { maxAttempts: 1, default: undefined });
    await expect(result).resolves.toBeUndefined();
    const missing = retryAndContinue(() => 1, { maxAttempts: 1 } as unknown as { maxAttempts: number; default: number });
    await expect(missing).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'retryAndContinue.default' });
    await expect(retryAndContinue(() => 1, { maxAttempts: 0, default: 1 })).rejects.toMatchObject({ field: 'retryAndContinue.maxAttempts' });
  });
});

describe('options', () => {
  const bad = (options: unknown) => () => retry(options as RetryOptions);

  it('requires maxAttempts, an integer >= 1', () => {
    expectConfigError(bad({}), 'retry.maxAttempts', undefined, 'undefined');
    expectConfigError(bad({ maxAttempts: 0 }), 'retry.maxAttempts', 0, '0');
    expectConfigError(bad({ maxAttempts: 1.5 }), 'retry.maxAttempts', 1.5, '1.5');
  });

  it('checks every delay setting, naming the field and the value', () => {
    expectConfigError(bad(null), 'retry', null, 'null');
    expectConfigError(bad({ maxAttempts: 2, backoff: 'fibonacci' }), 'retry.backoff', 'fibonacci', '"fibonacci"');
    expectConfigError(bad({ maxAttempts: 2, baseMs: -1 }), 'retry.baseMs', -1, '-1');
    expectConfigError(bad({ maxAttempts: 2, baseMs: Number.NaN }), 'retry.baseMs', Number.NaN, 'NaN');
    expectConfigError(bad({ maxAttempts: 2, baseMs: 0, backoff: 'decorrelated' }), 'retry.baseMs', 0, '0');
    expectConfigError(bad({ maxAttempts: 2, baseMs: 500, maxDelayMs: 100 }), 'retry.maxDelayMs', 100, '100');
    expectConfigError(bad({ maxAttempts: 2, baseMs: 60_000 }), 'retry.baseMs', 60_000, '60000');
    expectConfigError(bad({ maxAttempts: 2, maxDelayMs: 2 ** 31 }), 'retry.maxDelayMs', 2 ** 31, String(2 ** 31));
    expectConfigError(bad({ maxAttempts: 2, factor: 0.5 }), 'retry.factor', 0.5, '0.5');
    expectConfigError(bad({ maxAttempts: 2, factor: 2, backoff: 'linear' }), 'retry.factor', 2, '2');
    expectConfigError(bad({ maxAttempts: 2, jitter: 1.5 }), 'retry.jitter', 1.5, '1.5');
    expectConfigError(bad({ maxAttempts: 2, jitter: 0.1, backoff: 'decorrelated' }), 'retry.jitter', 0.1, '0.1');
  });

  it('checks hooks, the signal and unknown keys', () => {
    expectConfigError(bad({ maxAttempts: 2, retryOn: true }), 'retry.retryOn', true, 'true');
    expectConfigError(bad({ maxAttempts: 2, onRetry: 'log' }), 'retry.onRetry', 'log', '"log"');
    expectConfigError(bad({ maxAttempts: 2, random: 4 }), 'retry.random', 4, '4');
    const notASignal = {};
    expectConfigError(bad({ maxAttempts: 2, signal: notASignal }), 'retry.signal', notASignal, '{}');
    expectConfigError(bad({ maxAttempts: 2, maxAttempt: 3 }), 'retry.maxAttempt', 3, '3');
  });

  it('fills in the defaults: exponential from 100 ms, factor 2, up to 30 s', async () => {
    const policy = retry({ maxAttempts: 12 });
    expect({ backoff: policy.backoff, baseMs: policy.baseMs, maxDelayMs: policy.maxDelayMs, maxAttempts: policy.maxAttempts }).toEqual({
      backoff: 'exponential',
      baseMs: 100,
      maxDelayMs: 30_000,
      maxAttempts: 12,
    });
    // jitter 0.2: random 1 gives the top of each range
    expect(await delays({ maxAttempts: 11, random: () => 1 })).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000]);
  });
});
