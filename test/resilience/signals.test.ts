import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../../src/core/errors.js';
import {
  NO_ARGUMENT,
  Stop,
  abortedBy,
  argumentFor,
  forwarding,
  invoke,
  isThenable,
  listen,
  offAbort,
  onAbort,
  signalOf,
  unlisten,
} from '../../src/resilience/signals.js';

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
    const forwarder = forwarding((source) => Promise.resolve(source));
    const stop = new Stop();
    expect(argumentFor(none, caller)).toBe(NO_ARGUMENT);
    expect(argumentFor(wants, caller)).toBe(caller);
    const fresh = argumentFor(wants, undefined);
    expect(fresh).toBeInstanceOf(AbortSignal);
    expect((fresh as AbortSignal).aborted).toBe(false);
    expect(argumentFor(wants, stop)).toBe(stop.signal);
    expect(argumentFor(forwarder, undefined)).toBeUndefined();
    expect(argumentFor(forwarder, stop)).toBe(stop);
    expect(argumentFor(forwarder, caller)).toBe(caller);
  });

  it('calls work without arguments unless it declares a parameter', () => {
    const seen: unknown[][] = [];
    const optional = (...args: unknown[]): number => seen.push(args);
    invoke(optional, argumentFor(optional, new AbortController().signal));
    expect(seen).toEqual([[]]);
    const signal = new AbortController().signal;
    const wants = (s: AbortSignal): AbortSignal => s;
    expect(invoke(wants, argumentFor(wants, signal))).toBe(signal);
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

describe('Stop', () => {
  it('tells its listeners once, in order, and forgets removed ones', () => {
    const stop = new Stop();
    const order: string[] = [];
    const removed = (): number => order.push('removed');
    stop.listen(() => order.push('a'));
    stop.listen(removed);
    stop.listen(() => order.push('b'));
    stop.unlisten(removed);
    stop.abort('why');
    stop.abort('again');
    expect(order).toEqual(['a', 'b']);
    expect({ aborted: stop.aborted, reason: stop.reason }).toEqual({ aborted: true, reason: 'why' });
  });

  it('makes its AbortSignal on first use, aborting it with the Stop (even when made afterwards)', () => {
    const counted = new Stop();
    const signal = counted.signal;
    expect(counted.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    counted.abort('late');
    expect(signal.reason).toBe('late');
    const stopped = new Stop();
    stopped.abort('early');
    expect(stopped.signal.reason).toBe('early');
  });

  it('is listened to like a signal, and a signal like a Stop', () => {
    const stop = new Stop();
    const controller = new AbortController();
    const calls: string[] = [];
    const onStop = (): number => calls.push('stop');
    const onSignal = (): number => calls.push('signal');
    listen(stop, onStop);
    listen(controller.signal, onSignal);
    unlisten(stop, onStop);
    unlisten(controller.signal, onSignal);
    stop.abort(1);
    controller.abort();
    expect(calls).toEqual([]);
    expect(signalOf(controller.signal)).toBe(controller.signal);
    expect(signalOf(undefined)).toBeUndefined();
    expect(signalOf(stop)).toBe(stop.signal);
  });
});
