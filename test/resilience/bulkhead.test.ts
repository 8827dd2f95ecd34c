import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, BulkheadRejectedError } from '../../src/core/errors.js';
import { bulkhead, type BulkheadOptions } from '../../src/resilience/bulkhead.js';
import { deadlines } from '../../src/resilience/deadline-queue.js';
import { expectConfigError } from '../helpers/config-error.js';

const flush = () => vi.advanceTimersByTimeAsync(0);
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** Work that runs until its `open(name)` is called, logging start and end. */
class Gates {
  readonly log: string[] = [];
  private readonly waiting = new Map<string, (value: string) => void>();

  work(name: string): () => Promise<string> {
    return () => {
      this.log.push(`start ${name}`);
      return new Promise<string>((resolve) => this.waiting.set(name, resolve));
    };
  }

  open(name: string): void {
    this.log.push(`end ${name}`);
    this.waiting.get(name)?.(name);
    this.waiting.delete(name);
  }
}

let gates: Gates;

beforeEach(() => {
  vi.useFakeTimers();
  gates = new Gates();
});

afterEach(() => {
  expect(deadlines.pending).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('bulkhead', () => {
  it('runs at most maxConcurrent calls and queues the next ones in arrival order', async () => {
    const policy = bulkhead({ maxConcurrent: 2, maxQueue: 3 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((name) => policy.execute(gates.work(name)));
    expect(gates.log).toEqual(['start a', 'start b']);
    expect({ running: policy.running, queued: policy.queued }).toEqual({ running: 2, queued: 3 });
    gates.open('b');
    await flush();
    gates.open('a');
    await flush();
    expect(gates.log).toEqual(['start a', 'start b', 'end b', 'start c', 'end a', 'start d']);
    gates.open('c');
    gates.open('d');
    await flush();
    gates.open('e');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect({ running: policy.running, queued: policy.queued }).toEqual({ running: 0, queued: 0 });
  });

  it('rejects at once with BulkheadRejectedError when every slot and queue place is taken', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const first = policy.execute(gates.work('a'));
    const second = policy.execute(gates.work('b'));
    const error = await policy.execute(gates.work('c')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toMatchObject({ code: 'BULKHEAD_REJECTED', maxConcurrent: 1, maxQueue: 1 });
    expect(gates.log).toEqual(['start a']);
    gates.open('a');
    await flush();
    gates.open('b');
    await expect(Promise.all([first, second])).resolves.toEqual(['a', 'b']);
  });

  it('rejects every call that finds no free slot when maxQueue is 0', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const first = policy.execute(gates.work('a'));
    await expect(policy.execute(gates.work('b'))).rejects.toBeInstanceOf(BulkheadRejectedError);
    gates.open('a');
    await first;
  });

  it('takes a queued call whose caller aborts out of the queue, so the next one moves up', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const caller = new AbortController();
    const first = policy.execute(gates.work('a'));
    const leaving = policy.execute(gates.work('b'), caller.signal);
    const third = policy.execute(gates.work('c'));
    expect(policy.queued).toBe(2);
    caller.abort('changed my mind');
    await expect(leaving).rejects.toMatchObject({ code: 'ABORTED', cause: 'changed my mind' });
    expect(policy.queued).toBe(1);
    expect(listeners(caller.signal)).toBe(0);
    gates.open('a');
    await flush();
    expect(gates.log).toEqual(['start a', 'end a', 'start c']);
    gates.open('c');
    await expect(Promise.all([first, third])).resolves.toEqual(['a', 'c']);
  });

  it('rejects a running call at once when its caller aborts, but keeps the slot until its work settles', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const first = policy.execute((signal) => {
      seen = signal;
      return gates.work('a')();
    }, caller.signal);
    const next = policy.execute(gates.work('b'));
    caller.abort();
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toBe(caller.signal);
    expect({ running: policy.running, queued: policy.queued }).toEqual({ running: 1, queued: 1 });
    gates.open('a');
    await flush();
    expect(gates.log).toEqual(['start a', 'end a', 'start b']);
    gates.open('b');
    await expect(next).resolves.toBe('b');
  });

  it('rejects a call that waited queueTimeoutMs in the queue', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 500 });
    const first = policy.execute(gates.work('a'));
    const waiting = policy.execute(gates.work('b')).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    expect(policy.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await waiting;
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect((error as Error).message).toBe('bulkhead queue wait over 500 ms: 1 calls running and 5 queued at most');
    expect(policy.queued).toBe(0);
    gates.open('a');
    await expect(first).resolves.toBe('a');
    expect(gates.log).toEqual(['start a', 'end a']);
  });

  it('forgets the queue-wait deadline of a call that got its slot in time', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 500 });
    const first = policy.execute(gates.work('a'));
    const second = policy.execute(gates.work('b'));
    expect(deadlines.pending).toBe(1);
    gates.open('a');
    await flush();
    expect(deadlines.pending).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    gates.open('b');
    await expect(Promise.all([first, second])).resolves.toEqual(['a', 'b']);
  });

  it('releases the slot of work that throws synchronously or returns a plain value', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    await expect(policy.execute(() => { throw new Error('sync'); })).rejects.toThrow('sync');
    await expect(policy.execute(() => 5)).resolves.toBe(5);
    await expect(policy.execute(() => Promise.reject(new Error('async')))).rejects.toThrow('async');
    expect(policy.running).toBe(0);
  });

  it('drains a long queue of synchronous work without deep recursion', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 20_000 });
    const first = policy.execute(gates.work('a'));
    const rest = Array.from({ length: 20_000 }, (_, i) => policy.execute(() => i));
    gates.open('a');
    await first;
    const values = await Promise.all(rest);
    expect(values[19_999]).toBe(19_999);
    expect(policy.running).toBe(0);
  });

  it('never starts work when the caller\'s signal is already aborted', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const work = vi.fn(() => 1);
    await expect(policy.execute(work, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    expect(work).not.toHaveBeenCalled();
    expect(policy.running).toBe(0);
  });

  it('rejects bad options, naming the field and the value', () => {
    const bad = (options: unknown) => () => bulkhead(options as BulkheadOptions);
    expectConfigError(bad(undefined), 'bulkhead', undefined, 'undefined');
    expectConfigError(bad({ maxQueue: 1 }), 'bulkhead.maxConcurrent', undefined, 'undefined');
    expectConfigError(bad({ maxConcurrent: 0, maxQueue: 1 }), 'bulkhead.maxConcurrent', 0, '0');
    expectConfigError(bad({ maxConcurrent: 1 }), 'bulkhead.maxQueue', undefined, 'undefined');
    expectConfigError(bad({ maxConcurrent: 1, maxQueue: -1 }), 'bulkhead.maxQueue', -1, '-1');
    expectConfigError(bad({ maxConcurrent: 1, maxQueue: 0, queueTimeoutMs: 0 }), 'bulkhead.queueTimeoutMs', 0, '0');
    expectConfigError(bad({ maxConcurrent: 1, maxQueue: 0, limit: 3 }), 'bulkhead.limit', 3, '3');
    expect(bulkhead({ maxConcurrent: 3, maxQueue: 7, queueTimeoutMs: 10 })).toMatchObject({ maxConcurrent: 3, maxQueue: 7, queueTimeoutMs: 10 });
  });
});
