/** Outcome bit of a failed call in a window slot. */
export const FAILED = 1;
/** Outcome bit of a slow call in a window slot. */
export const SLOW = 2;

/**
 * The last `size` calls of one breaker, as a ring of outcome bytes (`FAILED | SLOW`) with running
 * totals: recording a call is O(1) and allocates nothing. Mutated in place by the functions of this
 * module only; owned by one {@link BreakerWindows}.
 */
export interface CountWindow {
  readonly kind: 'count';
  readonly size: number;
  /** One byte per slot; the slots in use are the `calls` before `next`, wrapping around. */
  readonly outcomes: Uint8Array;
  /** The slot the next call is written to (the oldest call's slot once the ring is full). */
  next: number;
  calls: number;
  failures: number;
  slow: number;
}

/** An empty window of the last `size` calls (`size` a positive integer). */
export function createCountWindow(size: number): CountWindow {
  return { kind: 'count', size, outcomes: new Uint8Array(size), next: 0, calls: 0, failures: 0, slow: 0 };
}

/** Records one call's outcome bits; once the window is full the oldest call leaves it. */
export function recordInCountWindow(w: CountWindow, outcome: number): void {
  const slot = w.next;
  if (w.calls === w.size) {
    const evicted = w.outcomes[slot];
    w.failures -= evicted & FAILED;
    w.slow -= (evicted & SLOW) >> 1;
  } else {
    w.calls++;
  }
  w.outcomes[slot] = outcome;
  w.failures += outcome & FAILED;
  w.slow += (outcome & SLOW) >> 1;
  w.next = slot + 1 === w.size ? 0 : slot + 1;
}

/** Forgets every call. */
export function clearCountWindow(w: CountWindow): void {
  w.outcomes.fill(0);
  w.next = 0;
  w.calls = 0;
  w.failures = 0;
  w.slow = 0;
}

/** The calls in the window, oldest first, one digit each: 0 ok, 1 failed, 2 slow, 3 slow and failed. */
export function countWindowOutcomes(w: CountWindow): string {
  let text = '';
  const start = w.next - w.calls + (w.next < w.calls ? w.size : 0);
  for (let i = 0; i < w.calls; i++) text += String(w.outcomes[(start + i) % w.size]);
  return text;
}
