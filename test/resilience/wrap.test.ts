import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, RetryExhaustedError, TimeoutError } from '../../src/core/errors.js';
import { bulkhead } from '../../src/resilience/bulkhead.js';
import { deadlines } from '../../src/resilience/deadline-queue.js';
import type { Policy, Work } from '../../src/resilience/policy.js';
import { retry } from '../../src/resilience/retry.js';
import { timeout } from '../../src/resilience/timeout.js';
import { wrap } from '../../src/resilience/wrap.js';
import { configErrorOf, expectConfigError } from '../helpers/config-error.js';
import { countAbortControllers } from './abort-controllers.js';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** A foreign policy (any object with execute) that records when calls enter and leave it. */
function recorder(name: string, log: string[]): Policy & { signals: (AbortSignal | undefined)[] } {
  const signals: (AbortSignal | undefined)[] = [];
  return {
    signals,
    async execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
      log.push(`enter ${name}`);
      signals.push(signal);
      try {
        return await (work as (signal?: AbortSignal) => T | PromiseLike<T>)(signal);
      } finally {
        log.push(`exit ${name}`);
      }
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(deadlines.pending).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('wrap', () => {
  it('runs the first policy outermost: wrap(a, b, c)(fn) is a around b around c around fn', async () => {
    const log: string[] = [];
    const policy = wrap(recorder('a', log), recorder('b', log), recorder('c', log));
    const result = await policy.execute(() => {
      log.push('work');
      return 'done';
    });
    expect(result).toBe('done');
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'work', 'exit c', 'exit b', 'exit a']);
  });

  it('is callable: wrap(a, b)(fn) gives a function of an optional signal that every policy receives', async () => {
    const log: string[] = [];
    const a = recorder('a', log);
    const b = recorder('b', log);
    const run = wrap(a, b)((signal) => signal);
    const caller = new AbortController();
    await expect(run(caller.signal)).resolves.toBe(caller.signal);
    expect(a.signals).toEqual([caller.signal]);
    expect(b.signals).toEqual([caller.signal]);
    await expect(run()).resolves.toBeUndefined();
    expect(log).toHaveLength(8);
  });

  it('nests a wrapped policy like any other', async () => {
    const log: string[] = [];
    const inner = wrap(recorder('b', log), recorder('c', log));
    const outer = wrap(recorder('a', log), inner);
    expect(outer.policies).toHaveLength(2);
    await outer.execute(() => log.push('work'));
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'work', 'exit c', 'exit b', 'exit a']);
  });

  it('retries a call that timed out when retry is outside timeout', async () => {
    let attempts = 0;
    const policy = wrap(retry({ maxAttempts: 3, baseMs: 10, jitter: 0 }), timeout(100));
    const result = policy.execute(() => (++attempts < 3 ? never<string>() : Promise.resolve('third time')));
    await vi.advanceTimersByTimeAsync(100 + 10 + 100 + 20);
    await expect(result).resolves.toBe('third time');
    expect(attempts).toBe(3);
  });

  it('gives up with RetryExhaustedError whose cause is the last TimeoutError', async () => {
    const policy = wrap(retry({ maxAttempts: 2, baseMs: 10, jitter: 0 }), timeout(50));
    const outcome = policy.execute(never).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(200);
    const error = (await outcome) as RetryExhaustedError;
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(error.cause).toBeInstanceOf(TimeoutError);
  });

  it('stops retrying at the deadline when timeout is outside retry, leaving no timer', async () => {
    let attempts = 0;
    const policy = wrap(timeout(250), retry({ maxAttempts: 100, backoff: 'constant', baseMs: 100, jitter: 0 }));
    const outcome = policy.execute(() => {
      attempts++;
      return Promise.reject(new Error('down'));
    }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(250);
    expect(await outcome).toBeInstanceOf(TimeoutError);
    expect(attempts).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toBe(3);
  });

  it('takes a call out of a bulkhead queue when an outer timeout expires', async () => {
    const gate = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const guarded = wrap(timeout(100), gate);
    let release: (value: string) => void = () => undefined;
    const first = gate.execute(() => new Promise<string>((resolve) => (release = resolve)));
    const work = vi.fn(() => 'never runs');
    const waiting = guarded.execute(work).catch((error: unknown) => error);
    expect(gate.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await waiting).toBeInstanceOf(TimeoutError);
    expect(gate.queued).toBe(0);
    release('a');
    await expect(first).resolves.toBe('a');
    expect(work).not.toHaveBeenCalled();
  });

  it('makes no AbortController for work without a signal when nothing outside a policy can stop it', async () => {
    const counter = countAbortControllers();
    try {
      const policy = wrap(retry({ maxAttempts: 2 }), bulkhead({ maxConcurrent: 2, maxQueue: 0 }), timeout(100));
      await expect(policy.execute(() => Promise.resolve(1))).resolves.toBe(1);
      expect(counter.made).toBe(0);
      // work that asks for a signal gets the innermost timeout's, the one controller of the call
      await expect(policy.execute((signal) => Promise.resolve(signal.aborted))).resolves.toBe(false);
      expect(counter.made).toBe(1);
    } finally {
      counter.restore();
    }
  });

  it('stops the policies of a nested wrap at an outer deadline, still without an AbortController', async () => {
    const counter = countAbortControllers();
    try {
      const gate = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
      const policy = wrap(timeout(100), wrap(retry({ maxAttempts: 3, baseMs: 10 }), gate));
      let release: (value: string) => void = () => undefined;
      const first = gate.execute(() => new Promise<string>((resolve) => (release = resolve)));
      const work = vi.fn(() => 'never runs');
      const waiting = policy.execute(work).catch((error: unknown) => error);
      expect(gate.queued).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      expect(await waiting).toBeInstanceOf(TimeoutError);
      expect(gate.queued).toBe(0);
      expect(counter.made).toBe(0);
      release('a');
      await first;
      expect(work).not.toHaveBeenCalled();
    } finally {
      counter.restore();
    }
  });

  it('hands a foreign policy inside a timeout an AbortSignal that aborts at the deadline', async () => {
    const log: string[] = [];
    const foreign = recorder('foreign', log);
    const outcome = wrap(timeout(100), foreign).execute(never).catch((error: unknown) => error);
    const signal = foreign.signals[0];
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(signal?.reason).toBe(error);
  });

  it('stops the whole chain with AbortedError when the caller aborts', async () => {
    const caller = new AbortController();
    const policy = wrap(retry({ maxAttempts: 5, baseMs: 10 }), timeout(1_000), bulkhead({ maxConcurrent: 1, maxQueue: 1 }));
    let inner: AbortSignal | undefined;
    const result = policy.execute((signal) => {
      inner = signal;
      return never();
    }, caller.signal);
    caller.abort('stop');
    await expect(result).rejects.toBeInstanceOf(AbortedError);
    expect(inner?.aborted).toBe(true);
  });

  it('turns a foreign policy that throws synchronously into a rejection', async () => {
    const throwing: Policy = {
      execute: () => {
        throw new Error('not a promise');
      },
    };
    await expect(wrap(throwing).execute(() => 1)).rejects.toThrow('not a promise');
    await expect(wrap(timeout(10), throwing).execute(() => 1)).rejects.toThrow('not a promise');
  });

  it('rejects anything but one or more policies', () => {
    const empty = configErrorOf(() => wrap());
    expect(empty.field).toBe('wrap.policies');
    expect(empty.message).toBe('wrap.policies must hold at least one policy, got array(0)');
    const notPolicy = { run: () => undefined };
    expectConfigError(() => wrap(timeout(1), notPolicy as unknown as Policy), 'wrap.policies[1]', notPolicy, '{}');
    expectConfigError(() => wrap(null as unknown as Policy), 'wrap.policies[0]', null, 'null');
  });
});
