/** The one source of time; tests inject a simulated one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision, for durations. */
  monotonic(): number;
}

/** The process clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
