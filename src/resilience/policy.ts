/**
 * Work run under a policy. It may take an AbortSignal: a policy creates one only for work that
 * declares the parameter (an AbortController costs microseconds; most calls never look at it).
 */
export type Work<T> = ((signal: AbortSignal) => T | PromiseLike<T>) | (() => T | PromiseLike<T>);

/** A resilience policy (retry, circuit breaker, timeout, bulkhead) or a composition of them. */
export interface Policy {
  /**
   * Runs `work` under the policy. `signal` is the caller's: when it aborts, the call stops with an
   * AbortedError (and `work`'s own signal, if it asked for one, aborts too).
   */
  execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T>;
}

let lastWork: Work<unknown> | undefined;
let lastWants = false;

/**
 * True when `work` declares a parameter, i.e. wants an AbortSignal. Reading a function's `length`
 * costs tens of nanoseconds on the hot path, so the answer for the last function asked about is
 * kept (callers usually pass the same function again and again).
 */
export function wantsSignal(work: Work<unknown>): boolean {
  if (work === lastWork) return lastWants;
  lastWork = work;
  lastWants = work.length > 0;
  return lastWants;
}
