import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../src/core/errors.js';
import { bulkhead } from '../../src/resilience/bulkhead.js';
import { circuitBreaker } from '../../src/resilience/circuit-breaker.js';
import { deadlines } from '../../src/resilience/deadline-queue.js';
import { retry } from '../../src/resilience/retry.js';
import { timeout } from '../../src/resilience/timeout.js';
import { wrap } from '../../src/resilience/wrap.js';

// cockatiel #69 (MaxListenersExceededWarning on wrap()) and #81 (TimeoutStrategy leaks listeners):
// composed policies must leave the caller's AbortSignal as they found it, and no timer behind.

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

let warnings: Error[];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};

beforeEach(() => {
  vi.useFakeTimers();
  warnings = [];
  process.on('warning', onWarning);
});

afterEach(async () => {
  // warnings are emitted on process.nextTick, which fake timers leave alone
  await new Promise<void>((resolve) => process.nextTick(resolve));
  process.off('warning', onWarning);
  expect(warnings.map((w) => w.name)).toEqual([]);
  expect(deadlines.pending).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

/**
 * Work for call `i`: every tenth call's first attempt hangs past the 1 s timeout (until its signal
 * aborts, or, for work without a signal, until `gate` opens at 1.5 s), every tenth plus one fails
 * once, the rest succeed.
 */
function scenario(i: number, gate: Promise<void>): { work: (signal: AbortSignal) => Promise<number>; plain: () => Promise<number> } {
  let attempts = 0;
  const hangs = (): boolean => ++attempts === 1 && i % 10 === 0;
  const fails = (): boolean => attempts === 1 && i % 10 === 1;
  return {
    work: (signal) => {
      if (hangs()) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      return fails() ? Promise.reject(new Error(`transient ${i}`)) : Promise.resolve(i);
    },
    plain: () => {
      if (hangs()) return gate.then(() => -1);
      return fails() ? Promise.reject(new Error(`transient ${i}`)) : Promise.resolve(i);
    },
  };
}

describe('wrap(retry, timeout, bulkhead) leaves nothing behind', () => {
  for (const declaresSignal of [true, false]) {
    it(`runs 10,000 concurrent calls on one caller signal with at most one listener on it, none after (work ${declaresSignal ? 'with' : 'without'} a signal)`, async () => {
      const caller = new AbortController();
      const gate = new Promise<void>((resolve) => setTimeout(resolve, 1_500));
      // Room for the 1,000 hung attempts and as many more, so that calls queue without starving.
      const slots = bulkhead({ maxConcurrent: 2_000, maxQueue: 10_000 });
      const policy = wrap(retry({ maxAttempts: 3, baseMs: 10, jitter: 0 }), timeout(1_000), slots);
      expect(listeners(caller.signal)).toBe(0);

      const results = Array.from({ length: 10_000 }, (_, i) => {
        const { work, plain } = scenario(i, gate);
        return policy.execute(declaresSignal ? work : plain, caller.signal);
      });
      expect(listeners(caller.signal)).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      expect(listeners(caller.signal)).toBe(1);
      await vi.advanceTimersByTimeAsync(2_000);

      const values = await Promise.all(results);
      expect(values).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
      expect(listeners(caller.signal)).toBe(0);
      expect({ running: slots.running, queued: slots.queued }).toEqual({ running: 0, queued: 0 });
    });
  }

  it('runs 10,000 calls one after another (cockatiel #69) without adding a listener or keeping a timer', async () => {
    const caller = new AbortController();
    const policy = wrap(retry({ maxAttempts: 3, baseMs: 10, jitter: 0 }), timeout(1_000), bulkhead({ maxConcurrent: 1, maxQueue: 0 }));
    let peak = 0;
    for (let i = 0; i < 10_000; i++) {
      const result = policy.execute((signal) => Promise.resolve(signal.aborted ? -1 : i), caller.signal);
      peak = Math.max(peak, listeners(caller.signal));
      expect(await result).toBe(i);
    }
    expect(peak).toBe(1);
    expect(listeners(caller.signal)).toBe(0);
  });

  it('keeps one listener through 15 timed-out attempts with backoff (cockatiel #81), none after', async () => {
    const caller = new AbortController();
    const seen: number[] = [];
    let attempts = 0;
    const policy = wrap(
      retry({ maxAttempts: 16, baseMs: 100, maxDelayMs: 500, jitter: 0, onRetry: () => seen.push(listeners(caller.signal)) }),
      timeout(100),
    );
    const result = policy.execute((signal) => (++attempts <= 15 ? never<string>() : Promise.resolve(signal.aborted ? 'no' : 'yes')), caller.signal);
    await vi.advanceTimersByTimeAsync(15 * 100 + 100 + 200 + 400 + 12 * 500);
    await expect(result).resolves.toBe('yes');
    expect(seen).toEqual(Array.from({ length: 15 }, () => 1));
    expect(listeners(caller.signal)).toBe(0);
  });

  it('leaves nothing behind when every call times out or the caller aborts midway', async () => {
    const caller = new AbortController();
    const policy = wrap(retry({ maxAttempts: 2, baseMs: 50, jitter: 0 }), timeout(100), bulkhead({ maxConcurrent: 10, maxQueue: 1_000 }));
    const outcomes = Array.from({ length: 1_000 }, () => policy.execute((_signal) => never<number>(), caller.signal).catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(120);
    caller.abort('shutdown');
    const errors = await Promise.all(outcomes);
    expect(errors.every((e) => (e as { code?: string }).code === 'ABORTED')).toBe(true);
    expect(listeners(caller.signal)).toBe(0);

    const timedOut = wrap(timeout(100), bulkhead({ maxConcurrent: 1, maxQueue: 1 })).execute(never).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await timedOut).toBeInstanceOf(TimeoutError);
  });

  it('leaves nothing behind with the circuit breaker in the middle: wrap(retry, breaker, timeout), as in DESIGN', async () => {
    const caller = new AbortController();
    const breaker = circuitBreaker({ name: 'leak-test', consecutiveFailures: 1_000_000, openMs: 1_000 });
    const policy = wrap(retry({ maxAttempts: 3, baseMs: 10, jitter: 0 }), breaker, timeout(100));
    const results = Array.from({ length: 2_000 }, (_, i) => {
      let attempts = 0;
      return policy.execute((signal) => (++attempts === 1 && i % 4 === 0 ? never<number>() : Promise.resolve(signal.aborted ? -1 : i)), caller.signal);
    });
    expect(listeners(caller.signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(await Promise.all(results)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(listeners(caller.signal)).toBe(0);
  });
});
