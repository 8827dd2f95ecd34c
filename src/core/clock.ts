/** Cancels a timer set with {@link Clock.setTimer} (idempotent). */
export type CancelTimer = () => void;

/** What a timer may ask: `unref` lets the process exit while it is pending. */
export interface TimerOptions {
  unref?: boolean;
}

/** The one source of time; tests inject a simulated one ({@link SimulatedClock}). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision, for durations. */
  monotonic(): number;
  /**
   * Runs `fn` once after `ms` (0: on the next turn of the event loop, not synchronously); returns
   * its cancel. Optional, so that a clock of only `now` and `monotonic` stays a clock: timers then
   * run on the process's own (see {@link setTimer}).
   */
  setTimer?(ms: number, fn: () => void, options?: TimerOptions): CancelTimer;
}

/** The process's timers: `setImmediate` for 0 ms (Node gives every `setTimeout` at least 1 ms), else `setTimeout`. */
function systemTimer(ms: number, fn: () => void, options?: TimerOptions): CancelTimer {
  if (ms <= 0) {
    const immediate = setImmediate(fn);
    if (options?.unref === true) immediate.unref();
    return () => clearImmediate(immediate);
  }
  const timer = setTimeout(fn, ms);
  if (options?.unref === true) timer.unref();
  return () => clearTimeout(timer);
}

/** The process clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: systemTimer,
};

/** Whatever may set timers: a clock, or anything with an optional `setTimer` (the process's timers without one). */
export type TimerSource = Pick<Clock, 'setTimer'>;

/** Sets a timer on `clock`, or on the process's timers when the clock has none. */
export function setTimer(clock: TimerSource, ms: number, fn: () => void, options?: TimerOptions): CancelTimer {
  return clock.setTimer === undefined ? systemTimer(ms, fn, options) : clock.setTimer(ms, fn, options);
}

/** The answer of {@link raceDeadline}: the promise's value, or that the deadline came first. */
export type Raced<T> = { done: true; value: T } | { done: false };

/**
 * Waits for `promise`, but not longer than `ms` on `clock`: `{ done: false }` when the deadline
 * comes first (the promise goes on; a later rejection is swallowed). A rejection before the
 * deadline rejects. The timer is cancelled either way.
 */
export function raceDeadline<T>(promise: PromiseLike<T> | T, ms: number, clock: TimerSource, options?: TimerOptions): Promise<Raced<T>> {
  const settled = Promise.resolve(promise);
  return new Promise<Raced<T>>((resolve, reject) => {
    const cancel = setTimer(clock, ms, () => resolve({ done: false }), options);
    settled.then(
      (value) => {
        cancel();
        resolve({ done: true, value });
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

/** The clock XState's actors take (`createActor(logic, { clock })`): its delayed events run on ours. */
export interface ActorClock {
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** XState's clock over `clock`'s timers (undefined when the clock has none: XState then uses the process's). */
export function actorClock(clock: TimerSource | undefined): ActorClock | undefined {
  if (clock?.setTimer === undefined) return undefined;
  const cancels = new Map<number, CancelTimer>();
  let next = 0;
  return {
    setTimeout: (fn, ms) => {
      const id = next++;
      cancels.set(
        id,
        setTimer(clock, ms, () => {
          cancels.delete(id);
          fn();
        }),
      );
      return id;
    },
    clearTimeout: (id) => {
      cancels.get(id as number)?.();
      cancels.delete(id as number);
    },
  };
}

/** Runs `fn` every `ms` on `clock` (re-armed after each run, so runs never pile up); returns the cancel. */
export function setRepeating(clock: TimerSource, ms: number, fn: () => void, options?: TimerOptions): CancelTimer {
  let cancelled = false;
  let cancel: CancelTimer = () => {};
  const arm = (): void => {
    cancel = setTimer(
      clock,
      ms,
      () => {
        if (cancelled) return;
        arm();
        fn();
      },
      options,
    );
  };
  arm();
  return () => {
    cancelled = true;
    cancel();
  };
}
