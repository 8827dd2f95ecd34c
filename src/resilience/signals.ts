import { AbortedError } from '../core/errors.js';
import { wantsSignal, type Policy, type Work } from './policy.js';

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

/**
 * What one of our policies hands the policy inside it (through `wrap`) to stop it: an AbortSignal
 * costs microseconds to make and to listen to, a Stop a few nanoseconds. It becomes an AbortSignal
 * only when work or a foreign policy asks for one.
 */
export class Stop {
  /** True once {@link abort} was called. */
  aborted = false;
  /** What {@link abort} was given (an AbortSignal's `reason`, for the inner policies' AbortedError `cause`). */
  reason: unknown = undefined;
  private callbacks: (() => void)[] = [];
  private controller: AbortController | undefined;

  /** An AbortSignal that aborts with this Stop (made on first use). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Stops: tells every callback, then aborts the signal if one was made; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
    this.controller?.abort(reason);
  }

  /** Calls `callback` once when this Stop aborts (it must not have yet). */
  listen(callback: () => void): void {
    this.callbacks.push(callback);
  }

  /** Forgets a callback given to {@link listen}. */
  unlisten(callback: () => void): void {
    const i = this.callbacks.lastIndexOf(callback);
    if (i >= 0) this.callbacks.splice(i, 1);
  }
}

/** Where a call's stop comes from: the caller's AbortSignal, or a Stop from a policy around it. */
export type StopSource = AbortSignal | Stop;

/** Calls `callback` once when `source` aborts (it must not have yet), until {@link unlisten}. */
export function listen(source: StopSource, callback: () => void): void {
  if (source instanceof Stop) source.listen(callback);
  else onAbort(source, callback);
}

/** Forgets a callback given to {@link listen}. */
export function unlisten(source: StopSource, callback: () => void): void {
  if (source instanceof Stop) source.unlisten(callback);
  else offAbort(source, callback);
}

/** True when `source` is given and aborted (a call, so that TypeScript does not narrow `aborted` across a callback). */
export function isAborted(source: StopSource | undefined): boolean {
  return source !== undefined && source.aborted;
}

/** The error a call rejects with when its stop source aborts (the source's reason as `cause`). */
export function abortedBy(source: StopSource): AbortedError {
  return new AbortedError(source.reason);
}

/** The AbortSignal of a stop source, for a policy or work that takes only signals. */
export function signalOf(source: StopSource | undefined): AbortSignal | undefined {
  return source instanceof Stop ? source.signal : source;
}

/** Our policies run a call with any stop source under this key; `wrap` uses it to pass Stops between them. */
export const RUN = Symbol('steadfast.policy.run');

/** A policy of this package: `execute` plus {@link RUN}, which takes a Stop as well as a signal. */
export interface StoppablePolicy extends Policy {
  [RUN]<T>(work: Work<T>, source: StopSource | undefined): Promise<T>;
}

/** True for a policy of this package (one with {@link RUN}). */
export function isStoppable(policy: Policy): policy is StoppablePolicy {
  return typeof (policy as Partial<StoppablePolicy>)[RUN] === 'function';
}

const FORWARDS = Symbol('steadfast.forwards');

/** Work that runs an inner policy and hands it whatever stop source it gets. */
type Forwarding<T> = ((source: StopSource | undefined) => Promise<T>) & { [FORWARDS]?: true };

/**
 * Marks a function that runs an inner policy, as `wrap` builds them: it declares a parameter (so a
 * timeout outside it makes a Stop, to stop the inner policies at the deadline), and takes the
 * stop source as it is, so no policy makes an AbortSignal for it.
 */
export function forwarding<T>(run: (source: StopSource | undefined) => Promise<T>): Work<T> {
  const work = run as Forwarding<T>;
  work[FORWARDS] = true;
  return work as Work<T>;
}

/** What {@link argumentFor} gives for work that declares no parameter: {@link invoke} calls it with none. */
export const NO_ARGUMENT: unique symbol = Symbol('steadfast.noArgument');

/** What to call work with: a stop source (or undefined, for forwarding work), or {@link NO_ARGUMENT}. */
export type WorkArgument = StopSource | undefined | typeof NO_ARGUMENT;

/**
 * What to call `work` with, given the call's stop source: nothing for work that declares no
 * parameter, the source itself for {@link forwarding} work, else an AbortSignal: the caller's, a
 * Stop's, or, when there is none, a fresh one that never aborts (work that declares one may read it).
 * `wants` is `wantsSignal(work)` when the caller already knows it (reading a function's length is not free).
 */
export function argumentFor(work: Work<unknown>, source: StopSource | undefined, wants = wantsSignal(work)): WorkArgument {
  if (!wants) return NO_ARGUMENT;
  if ((work as Forwarding<unknown>)[FORWARDS] === true) return source;
  if (source === undefined) return new AbortController().signal;
  return signalOf(source);
}

/** Calls `work` with `argument` from {@link argumentFor}: a function with optional parameters never gets one it did not ask for. */
export function invoke<T>(work: Work<T>, argument: WorkArgument): T | PromiseLike<T> {
  if (argument === NO_ARGUMENT) return (work as () => T | PromiseLike<T>)();
  return (work as (argument: StopSource | undefined) => T | PromiseLike<T>)(argument);
}

/** True for a promise or any other thenable. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null &&
    typeof (value as { then?: unknown }).then === 'function';
}
