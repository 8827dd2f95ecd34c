import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../../src/core/errors.js';
import { abortedBy, forwarding, invoke, isThenable, offAbort, onAbort, signalFor } from '../../src/resilience/signals.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('onAbort / offAbort', () => {
  it('adds one listener to a signal however many callbacks wait on it, and removes it with the last', () => {
    const controller = new AbortController();
    const callbacks = Array.from({ length: 100 }, () => vi.fn());
    for (const callback of callbacks) onAbort(controller.signal, callback);
    expect(listeners(controller.signal)).toBe(1);
    for (const callback of callbacks) offAbort(controller.signal, callback);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('calls every waiting callback once, in subscription order, when the signal aborts', () => {
    const controller = new AbortController();
    const order: number[] = [];
    onAbort(controller.signal, () => order.push(1));
    onAbort(controller.signal, () => order.push(2));
    controller.abort();
    controller.abort();
    expect(order).toEqual([1, 2]);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('skips a callback removed before the abort (one removed during the dispatch still runs)', () => {
    const controller = new AbortController();
    const removed = vi.fn();
    const late = vi.fn();
    onAbort(controller.signal, removed);
    offAbort(controller.signal, removed);
    onAbort(controller.signal, () => offAbort(controller.signal, late));
    onAbort(controller.signal, late);
    controller.abort();
    expect(removed).not.toHaveBeenCalled();
    // the hub is detached before callbacks run, so removal from inside dispatch is a no-op
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('ignores offAbort for a callback or a signal it does not know', () => {
    const controller = new AbortController();
    expect(() => offAbort(controller.signal, () => undefined)).not.toThrow();
    onAbort(controller.signal, () => undefined);
    offAbort(controller.signal, () => undefined);
    expect(listeners(controller.signal)).toBe(1);
  });
});

describe('signal plumbing', () => {
  it('makes an AbortedError carrying the signal reason', () => {
    const controller = new AbortController();
    controller.abort('stop');
    const error = abortedBy(controller.signal);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.cause).toBe('stop');
  });

  it('hands work only the signal it asked for', () => {
    const caller = new AbortController().signal;
    const none = (): number => 1;
    const wants = (signal: AbortSignal): boolean => signal.aborted;
    expect(signalFor(none, caller)).toBe(caller);
    expect(signalFor(wants, caller)).toBe(caller);
    const fresh = signalFor(wants, undefined);
    expect(fresh).toBeInstanceOf(AbortSignal);
    expect(fresh?.aborted).toBe(false);
    expect(signalFor(none, undefined)).toBeUndefined();
    expect(signalFor(forwarding(() => Promise.resolve(1)), undefined)).toBeUndefined();
  });

  it('calls work without arguments unless it declares a parameter', () => {
    const seen: unknown[][] = [];
    const optional = (...args: unknown[]): number => seen.push(args);
    invoke(optional, new AbortController().signal);
    expect(seen).toEqual([[]]);
    const signal = new AbortController().signal;
    expect(invoke((s: AbortSignal) => s, signal)).toBe(signal);
  });

  it('recognises thenables', () => {
    expect(isThenable(Promise.resolve(1))).toBe(true);
    expect(isThenable({ then: () => undefined })).toBe(true);
    expect(isThenable(Object.assign(() => undefined, { then: () => undefined }))).toBe(true);
    expect(isThenable(1)).toBe(false);
    expect(isThenable(null)).toBe(false);
    expect(isThenable({ then: 1 })).toBe(false);
  });
});
