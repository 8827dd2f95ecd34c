import { AbortedError, CircuitOpenError, RetryExhaustedError } from '../core/errors.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { offAbort, onAbort } from '../resilience/signals.js';
import { setTimer, systemClock, type TimerSource } from '../core/clock.js';

/**
 * Why a call of a stage with `degraded: 'backpressure'` is held instead of failing:
 * - `refused`: the breaker refused it (open, isolated, or no probe place in halfOpen);
 * - `open`: it failed, and the breaker is not closed any more (this failure tripped it, or a probe failed);
 * - `closed`: it failed, the breaker counted the failure but is still closed.
 * `undefined`: not held, the call fails as usual (an error the breaker does not count: not the
 * dependency's fault, so waiting for the breaker would not help).
 */
export type Hold = { kind: 'refused'; state: string } | { kind: 'open' } | { kind: 'closed' } | undefined;

/** How a failed call of a backpressure stage is held, from its error and the breaker's state now. */
export function holdFor(breaker: CircuitBreaker, error: unknown): Hold {
  const root = error instanceof RetryExhaustedError ? error.cause : error;
  // Refused by this breaker; a refusal by some other breaker inside the stage's code is a failure like any other.
  if (root instanceof CircuitOpenError && root.breaker === breaker.name) return { kind: 'refused', state: root.state };
  if (root instanceof AbortedError || !breaker.countsAsFailure(root)) return undefined;
  return breaker.state === 'closed' ? { kind: 'closed' } : { kind: 'open' };
}

/** Failures in a row with the breaker closed after which a held event is logged as possibly poison. */
export const POISON_WARNING_AFTER = 10;

/**
 * The pause before a held event that failed with the breaker still closed is tried again (its
 * `n`-th such failure in a row): 1 ms, doubling up to the breaker's `openMs`, so that the tries feed
 * the breaker's trip conditions quickly and an event that never trips it costs next to nothing.
 */
export function closedPauseMs(n: number, breaker: CircuitBreaker): number {
  return Math.min(breaker.openMs, 2 ** Math.min(n - 1, 30));
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (the timer is cancelled). */
export function pause(ms: number, signal: AbortSignal, clock: TimerSource = systemClock): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      cancel();
      offAbort(signal, done);
      resolve();
    };
    const cancel = setTimer(clock, ms, done);
    onAbort(signal, done);
  });
}

/**
 * Resolves once the breaker lets a call through again, or at once when `signal` aborts: right
 * away when it is closed, or half-open and the refusal was not for want of a probe place; else at
 * its next transition (half-open or closed after open or isolated; any, after a refusal in halfOpen).
 */
export function untilCallsPass(breaker: CircuitBreaker, hold: Exclude<Hold, undefined>, signal: AbortSignal): Promise<void> {
  const state = breaker.state;
  const refusedInHalfOpen = hold.kind === 'refused' && hold.state === 'halfOpen';
  if (signal.aborted || state === 'closed' || (state === 'halfOpen' && !refusedInHalfOpen)) return Promise.resolve();
  return new Promise((resolve) => {
    const offs: Array<() => void> = [];
    const done = (): void => {
      for (const off of offs) off();
      offAbort(signal, done);
      resolve();
    };
    if (refusedInHalfOpen) offs.push(breaker.onAny(done));
    else offs.push(breaker.on('steadfast.breaker.halfOpened', done), breaker.on('steadfast.breaker.closed', done));
    onAbort(signal, done);
  });
}
