import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, TimeoutError } from '../../src/core/errors.js';
import { deadlines } from '../../src/resilience/deadline-queue.js';
import { timeout } from '../../src/resilience/timeout.js';
import { expectConfigError } from '../helpers/config-error.js';
import { countAbortControllers } from './abort-controllers.js';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(deadlines.pending).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('timeout', () => {
  it('rejects with a TimeoutError at exactly the deadline', async () => {
    let outcome: unknown = 'pending';
    timeout(100).execute(never).catch((error: unknown) => (outcome = error));
    await vi.advanceTimersByTimeAsync(99);
    expect(outcome).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toBeInstanceOf(TimeoutError);
    expect(outcome).toMatchObject({ code: 'TIMEOUT', timeoutMs: 100, message: 'call timed out after 100 ms' });
  });

  it('resolves or rejects with the work when it settles first, leaving no timer', async () => {
    const ok = timeout({ ms: 100 }).execute(() => later(99, 'done'));
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(99);
    await expect(ok).resolves.toBe('done');
    expect(vi.getTimerCount()).toBe(0);
    const failure = new Error('broken');
    await expect(timeout(100).execute(() => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('resolves a synchronous value and rejects a synchronous throw without touching the deadline queue', async () => {
    const add = vi.spyOn(deadlines, 'add');
    await expect(timeout(100).execute(() => 7)).resolves.toBe(7);
    await expect(timeout(100).execute(() => { throw new Error('sync'); })).rejects.toThrow('sync');
    expect(add).not.toHaveBeenCalled();
    add.mockRestore();
  });

  it('makes no AbortController for work that declares no parameter, and passes it no argument', async () => {
    const counter = countAbortControllers();
    try {
      const seen: unknown[][] = [];
      const work = (...args: unknown[]) => {
        seen.push(args);
        return later(10, 'ok');
      };
      expect(work.length).toBe(0);
      const result = timeout(100).execute(work);
      await vi.advanceTimersByTimeAsync(10);
      await expect(result).resolves.toBe('ok');
      expect(seen).toEqual([[]]);
      expect(counter.made).toBe(0);
    } finally {
      counter.restore();
    }
  });

  it('gives work that declares a signal its own, aborted at the deadline with the TimeoutError as reason', async () => {
    const counter = countAbortControllers();
    try {
      let seen: AbortSignal | undefined;
      const result = timeout(50).execute((signal) => {
        seen = signal;
        return never();
      });
      expect(counter.made).toBe(1);
      expect(seen?.aborted).toBe(false);
      const outcome = result.catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(50);
      const error = await outcome;
      expect(error).toBeInstanceOf(TimeoutError);
      expect(seen?.aborted).toBe(true);
      expect(seen?.reason).toBe(error);
    } finally {
      counter.restore();
    }
  });

  it('stops at once with AbortedError when the caller aborts, aborting the work\'s signal with the caller\'s reason', async () => {
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = timeout(1_000).execute((signal) => {
      seen = signal;
      return never();
    }, caller.signal);
    expect(seen).not.toBe(caller.signal);
    expect(listeners(caller.signal)).toBe(1);
    caller.abort('bye');
    await expect(result).rejects.toMatchObject({ code: 'ABORTED', cause: 'bye' });
    expect(seen?.reason).toBe('bye');
    expect(deadlines.pending).toBe(0);
  });

  it('stops at once on the caller\'s abort for work that takes no signal too', async () => {
    const caller = new AbortController();
    const result = timeout(1_000).execute(never, caller.signal);
    caller.abort();
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    expect(listeners(caller.signal)).toBe(0);
  });

  it('never starts work when the caller\'s signal is already aborted', async () => {
    const work = vi.fn(() => 1);
    await expect(timeout(10).execute(work, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    expect(work).not.toHaveBeenCalled();
  });

  it('notices a caller aborted by the work\'s own synchronous part', async () => {
    const caller = new AbortController();
    const plain = timeout(10).execute(() => {
      caller.abort();
      return never();
    }, caller.signal);
    await expect(plain).rejects.toBeInstanceOf(AbortedError);
    const other = new AbortController();
    let inner: AbortSignal | undefined;
    const linked = timeout(10).execute((signal) => {
      other.abort('early');
      inner = signal;
      return never();
    }, other.signal);
    await expect(linked).rejects.toMatchObject({ code: 'ABORTED', cause: 'early' });
    expect(inner?.reason).toBe('early');
    expect(listeners(caller.signal) + listeners(other.signal)).toBe(0);
  });

  it('removes its listener from the caller\'s signal once each call settles', async () => {
    const caller = new AbortController();
    const policy = timeout(100);
    for (let i = 0; i < 100; i++) {
      const result = policy.execute((signal) => later(5, signal.aborted), caller.signal);
      await vi.advanceTimersByTimeAsync(5);
      await expect(result).resolves.toBe(false);
    }
    const timedOut = policy.execute(never, caller.signal).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    expect(await timedOut).toBeInstanceOf(TimeoutError);
    expect(listeners(caller.signal)).toBe(0);
  });

  it('runs 10,000 concurrent timeouts behind one armed timer', async () => {
    const short = timeout(1_000);
    const long = timeout(5_000);
    const results = Array.from({ length: 10_000 }, (_, i) =>
      (i % 2 === 0 ? short : long).execute(never).catch((error: unknown) => error),
    );
    expect(deadlines.pending).toBe(10_000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(deadlines.pending).toBe(5_000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(4_000);
    const errors = await Promise.all(results);
    expect(errors.every((error) => error instanceof TimeoutError)).toBe(true);
  });

  it('cancels the deadlines of 10,000 calls that finish in time, leaving no timer', async () => {
    const policy = timeout(1_000);
    // ten gates opening at 50, 100, ... 500 ms, each finishing a tenth of the calls
    const gates = Array.from({ length: 10 }, (_, i) => later(50 * (i + 1), i));
    const results = Array.from({ length: 10_000 }, (_, i) => policy.execute(() => gates[i % 10] as Promise<number>));
    expect(vi.getTimerCount()).toBe(11);
    await vi.advanceTimersByTimeAsync(250);
    expect(deadlines.pending).toBe(5_000);
    expect(vi.getTimerCount()).toBe(6);
    await vi.advanceTimersByTimeAsync(250);
    const values = await Promise.all(results);
    expect(values[9_999]).toBe(9);
  });

  it('rejects a bad ms, naming the field and the value', () => {
    expectConfigError(() => timeout(0), 'timeout', 0, '0');
    expectConfigError(() => timeout(-5), 'timeout', -5, '-5');
    expectConfigError(() => timeout(Number.POSITIVE_INFINITY), 'timeout', Number.POSITIVE_INFINITY, 'Infinity');
    expectConfigError(() => timeout(2 ** 31), 'timeout', 2 ** 31, String(2 ** 31));
    expectConfigError(() => timeout('100' as unknown as number), 'timeout', '100', '"100"');
    expectConfigError(() => timeout(null as unknown as number), 'timeout', null, 'null');
    expectConfigError(() => timeout({ ms: Number.NaN }), 'timeout.ms', Number.NaN, 'NaN');
    expectConfigError(() => timeout({ ms: 10, strategy: 'aggressive' } as unknown as { ms: number }), 'timeout.strategy', 'aggressive', '"aggressive"');
    expect(timeout({ ms: 2_000 }).ms).toBe(2_000);
  });
});
