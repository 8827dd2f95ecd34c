import { FAILED, SLOW } from './breaker-count-window.js';

/**
 * The calls of the last `buckets` buckets of `bucketMs` each, as a ring of per-bucket counts with
 * running totals (resilience4j's time-based sliding window, opossum's rolling buckets). Bucket
 * `epoch` holds the calls made at `epoch · bucketMs <= now < (epoch + 1) · bucketMs`; the window is
 * the newest bucket (`headEpoch`, the one `now` falls in) and the `buckets − 1` before it, so a call
 * stays counted for between `ms − bucketMs` (exclusive) and `ms` (inclusive) depending on where in its
 * bucket it landed, and leaves exactly when `floor(now / bucketMs) − floor(at / bucketMs) >= buckets`.
 *
 * Buckets that leave are cleared lazily when time moves on, at most `buckets` per move however far
 * time jumps. Time that goes backwards (or a non-finite `now`) counts as no time passing: the call
 * lands in the newest bucket. Mutated in place by the functions of this module only; owned by one
 * {@link BreakerWindows}.
 */
export interface TimeWindow {
  readonly kind: 'time';
  readonly ms: number;
  readonly buckets: number;
  readonly bucketMs: number;
  /** Calls, failures and slow calls of slot i at 3i, 3i + 1, 3i + 2 (exact integers up to 2^53). */
  readonly counts: Float64Array;
  /** `floor(now / bucketMs)` of the newest bucket. */
  headEpoch: number;
  /** The slot of the newest bucket, `headEpoch` modulo `buckets`. */
  headSlot: number;
  calls: number;
  failures: number;
  slow: number;
  /** Buckets cleared so far because time moved on: work done outside recording, for tests and diagnostics. */
  cleared: number;
}

/** An empty window of `ms` in `buckets` buckets (`ms` a positive multiple of `buckets`), its newest bucket the one `now` falls in. */
export function createTimeWindow(ms: number, buckets: number, now: number): TimeWindow {
  const bucketMs = ms / buckets;
  const headEpoch = Math.floor(now / bucketMs);
  return {
    kind: 'time',
    ms,
    buckets,
    bucketMs,
    counts: new Float64Array(3 * buckets),
    headEpoch,
    headSlot: slotOf(headEpoch, buckets),
    calls: 0,
    failures: 0,
    slow: 0,
    cleared: 0,
  };
}

/** Moves the window to `now`: the buckets that left it are cleared (at most `buckets` of them). */
export function advanceTimeWindow(w: TimeWindow, now: number): void {
  const epoch = Math.floor(now / w.bucketMs);
  // Same bucket, time going backwards, or NaN: nothing leaves. Infinity would strand the window.
  if (!(epoch > w.headEpoch) || epoch === Infinity) return;
  const gap = epoch - w.headEpoch;
  if (gap >= w.buckets) {
    w.counts.fill(0);
    w.calls = 0;
    w.failures = 0;
    w.slow = 0;
    w.cleared += w.buckets;
    w.headSlot = slotOf(epoch, w.buckets);
  } else {
    let slot = w.headSlot;
    for (let i = 0; i < gap; i++) {
      slot = slot + 1 === w.buckets ? 0 : slot + 1;
      const at = 3 * slot;
      w.calls -= w.counts[at];
      w.failures -= w.counts[at + 1];
      w.slow -= w.counts[at + 2];
      w.counts[at] = 0;
      w.counts[at + 1] = 0;
      w.counts[at + 2] = 0;
    }
    w.cleared += gap;
    w.headSlot = slot;
  }
  w.headEpoch = epoch;
}

/** Records one call's outcome bits (`FAILED | SLOW`) at `now`, after moving the window to `now`. */
export function recordInTimeWindow(w: TimeWindow, now: number, outcome: number): void {
  advanceTimeWindow(w, now);
  const at = 3 * w.headSlot;
  const failed = outcome & FAILED;
  const slow = (outcome & SLOW) >> 1;
  w.counts[at]++;
  w.counts[at + 1] += failed;
  w.counts[at + 2] += slow;
  w.calls++;
  w.failures += failed;
  w.slow += slow;
}

/** Forgets every call; the newest bucket becomes the one `now` falls in. */
export function clearTimeWindow(w: TimeWindow, now: number): void {
  w.counts.fill(0);
  w.calls = 0;
  w.failures = 0;
  w.slow = 0;
  w.headEpoch = Math.floor(now / w.bucketMs);
  w.headSlot = slotOf(w.headEpoch, w.buckets);
}

/** Counts of the window's buckets, oldest first (the last one is `headEpoch`'s). */
export function timeWindowBuckets(w: TimeWindow): { calls: number[]; failures: number[]; slow: number[] } {
  const calls: number[] = [];
  const failures: number[] = [];
  const slow: number[] = [];
  for (let i = 1; i <= w.buckets; i++) {
    const at = 3 * ((w.headSlot + i) % w.buckets);
    calls.push(w.counts[at]);
    failures.push(w.counts[at + 1]);
    slow.push(w.counts[at + 2]);
  }
  return { calls, failures, slow };
}

/**
 * Loads bucket counts (oldest first, the last one `headEpoch`'s) into an empty window whose newest
 * bucket is `headEpoch`; only the newest `w.buckets` are kept if there are more.
 */
export function fillTimeWindow(
  w: TimeWindow,
  headEpoch: number,
  counts: { calls: readonly number[]; failures: readonly number[]; slow: readonly number[] },
): void {
  w.counts.fill(0);
  w.headEpoch = headEpoch;
  w.headSlot = slotOf(headEpoch, w.buckets);
  const n = counts.calls.length;
  const kept = Math.min(n, w.buckets);
  w.calls = 0;
  w.failures = 0;
  w.slow = 0;
  for (let i = 0; i < kept; i++) {
    const from = n - kept + i;
    const at = 3 * slotOf(headEpoch - (kept - 1 - i), w.buckets);
    w.counts[at] = counts.calls[from];
    w.counts[at + 1] = counts.failures[from];
    w.counts[at + 2] = counts.slow[from];
    w.calls += counts.calls[from];
    w.failures += counts.failures[from];
    w.slow += counts.slow[from];
  }
}

function slotOf(epoch: number, buckets: number): number {
  const slot = epoch % buckets;
  // `+ 0` turns -0 (from a negative multiple of `buckets`) into 0.
  return slot < 0 ? slot + buckets : slot + 0;
}
