import { AbortedError } from '../core/errors.js';
import { wantsSignal, type Work } from './policy.js';

// One 'abort' listener per caller signal, however many calls share it: thousands of concurrent
// calls under one shutdown signal add one listener (no MaxListenersExceededWarning), and a call
// that settles leaves nothing on the caller's signal (cockatiel bugs #69 and #81).
interface Hub {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const hubs = new WeakMap<AbortSignal, Hub>();

/**
 * Calls `callback` once when `signal` aborts, until {@link offAbort}; `signal` must not be aborted
 * yet, and `callback` must not throw (it runs inside the signal's dispatch).
 */
export function onAbort(signal: AbortSignal, callback: () => void): void {
  let hub = hubs.get(signal);
  if (hub === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      hubs.delete(signal);
      for (const run of callbacks) run();
      callbacks.clear();
    };
    hub = { callbacks, listener };
    hubs.set(signal, hub);
    signal.addEventListener('abort', listener, { once: true });
  }
  hub.callbacks.add(callback);
}

/** Forgets a callback given to {@link onAbort}; the signal's listener goes when its last callback does. */
export function offAbort(signal: AbortSignal, callback: () => void): void {
  const hub = hubs.get(signal);
  if (hub === undefined || !hub.callbacks.delete(callback) || hub.callbacks.size > 0) return;
  hubs.delete(signal);
  signal.removeEventListener('abort', hub.listener);
}

/** True when `signal` is given and aborted (a call, so that TypeScript does not narrow `aborted` across a callback). */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

/** The error a call rejects with when its caller's signal aborts (the signal's reason as `cause`). */
export function abortedBy(signal: AbortSignal): AbortedError {
  return new AbortedError(signal.reason);
}

const FORWARDS = Symbol('steadfast.forwardsSignal');

/** Work that passes whatever signal it gets to an inner policy, so a policy should not invent one for it. */
type Forwarding<T> = ((signal: AbortSignal) => Promise<T>) & { [FORWARDS]?: true };

/**
 * Marks a function that runs an inner policy, as `wrap` builds them: it declares a signal (so a
 * timeout outside it makes one, to stop the inner policies at the deadline) but accepts none,
 * so that retry and bulkhead hand it the caller's signal, or nothing, and never a new controller.
 */
export function forwarding<T>(run: (signal: AbortSignal | undefined) => Promise<T>): Work<T> {
  const work = run as Forwarding<T>;
  work[FORWARDS] = true;
  return work;
}

/**
 * The signal to hand `work` when the caller gave `signal`: none for work that takes none, the
 * caller's own when there is one, nothing for {@link forwarding} work, else a fresh (never aborted)
 * signal, since work that declares one may read it.
 */
export function signalFor(work: Work<unknown>, signal: AbortSignal | undefined): AbortSignal | undefined {
  if (!wantsSignal(work) || signal !== undefined || (work as Forwarding<unknown>)[FORWARDS] === true) return signal;
  return new AbortController().signal;
}

/** Calls `work`, with `signal` only when it declares a parameter (a function with optional parameters never gets one it did not ask for). */
export function invoke<T>(work: Work<T>, signal: AbortSignal | undefined): T | PromiseLike<T> {
  if (!wantsSignal(work)) return (work as () => T | PromiseLike<T>)();
  return (work as (signal: AbortSignal | undefined) => T | PromiseLike<T>)(signal);
}

/** True for a promise or any other thenable. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null &&
    typeof (value as { then?: unknown }).then === 'function';
}
