import { FAILED, SLOW, clearCountWindow, countWindowOutcomes, createCountWindow, recordInCountWindow, type CountWindow } from './breaker-count-window.js';
import { advanceTimeWindow, clearTimeWindow, createTimeWindow, fillTimeWindow, recordInTimeWindow, timeWindowBuckets, type TimeWindow } from './breaker-time-window.js';
import type { ResolvedTripOptions } from './breaker-trip-options.js';
import { parseWindowsSnapshot, type WindowsSnapshot } from './breaker-windows-snapshot.js';
import { ConfigError } from './errors.js';

export { TRIP_DEFAULTS, TRIP_LIMITS, TRIP_OPTION_KEYS, tripOptions } from './breaker-trip-options.js';
export type { CountWindowOptions, ResolvedTripOptions, TimeWindowOptions, TripOptions } from './breaker-trip-options.js';
export type { CountWindowSnapshot, TimeWindowSnapshot, WindowsSnapshot } from './breaker-windows-snapshot.js';
export type { CountWindow } from './breaker-count-window.js';
export type { TimeWindow } from './breaker-time-window.js';

/** Which condition tripped a breaker. */
export type TripReason = 'consecutive' | 'failureRate' | 'slowCallRate' | 'ema';

/** One finished call: its outcome, how long it took (ms) and when it finished (`now`, on the breaker's clock). */
export interface RecordedCall {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly now: number;
}

/** What the windows hold at a moment, for metrics and health: rates are 0 when the window is empty. */
export interface WindowStats {
  calls: number;
  failures: number;
  slow: number;
  failureRate: number;
  slowRate: number;
  consecutiveFailures: number;
  ema: number;
}

/**
 * The trip arithmetic of one breaker: its window (the last calls, or the calls of the last ms), the
 * run of consecutive failures, and the EMA of the failure rate.
 *
 * Ownership: this is mutable state owned by exactly one breaker. {@link recordCall},
 * {@link resetWindows} and {@link windowStats} update it in place, so that the hot path allocates
 * nothing; its fields are read-only to everyone else, and it must not be shared between breakers
 * or stored where others expect immutable data (an XState context, say) — hand out
 * {@link snapshotWindows} instead, a plain JSON copy.
 */
export interface BreakerWindows {
  readonly options: ResolvedTripOptions;
  readonly window: Readonly<CountWindow> | Readonly<TimeWindow>;
  readonly consecutiveFailures: number;
  /** EMA of the failure rate: λ ← α·f + (1 − α)·λ per call, from 0 at creation and at every reset. */
  readonly ema: number;
  /** Calls since creation or the last reset, which the EMA's `minimumCalls` counts. */
  readonly emaCalls: number;
}

interface WindowsState {
  readonly options: ResolvedTripOptions;
  readonly window: CountWindow | TimeWindow;
  consecutiveFailures: number;
  ema: number;
  emaCalls: number;
}

/**
 * Empty windows for a breaker with these trip options, the time window (if any) starting at `now`.
 * The window is kept whatever the conditions, so that {@link windowStats} always has counts.
 */
export function createWindows(options: ResolvedTripOptions, now: number): BreakerWindows {
  finiteNow(now);
  const { window } = options;
  const state: WindowsState = {
    options,
    window: window.kind === 'count' ? createCountWindow(window.size) : createTimeWindow(window.ms, window.buckets, now),
    consecutiveFailures: 0,
    ema: 0,
    emaCalls: 0,
  };
  return state;
}

/**
 * Records a finished call and answers whether the breaker should open now, and why; O(1), no
 * allocation (the `call` object is read, never kept, so a caller may reuse one).
 *
 * - Every condition is checked after the call is counted, so the call that reaches a threshold
 *   trips (`>=`): the n-th failure in a row, the call that brings failures / calls to `failureRate`.
 * - Rate conditions are checked after every call, a success too (as resilience4j): 9 failures with
 *   `minimumCalls` 10 trip on the 10th call whatever its outcome when 9/10 >= failureRate.
 * - A rate condition needs `minimumCalls` calls in the window (for the EMA: since the last reset).
 * - A call longer than `slowCallMs` (strictly) is slow, whether it succeeded or failed; a NaN or
 *   negative duration is not slow.
 * - When several conditions hold, the first of 'consecutive', 'failureRate', 'slowCallRate', 'ema'.
 * - The answer stays set on later calls until {@link resetWindows}: opening is the caller's move.
 */
export function recordCall(windows: BreakerWindows, call: RecordedCall): TripReason | undefined {
  const w = windows as WindowsState;
  const { options } = w;
  const failed = !call.ok;
  const outcome = (failed ? FAILED : 0) | (options.slowCallMs !== undefined && call.durationMs > options.slowCallMs ? SLOW : 0);
  if (w.window.kind === 'count') recordInCountWindow(w.window, outcome);
  else recordInTimeWindow(w.window, call.now, outcome);
  w.consecutiveFailures = failed ? w.consecutiveFailures + 1 : 0;
  const alpha = options.emaAlpha;
  w.ema = alpha * (failed ? 1 : 0) + (1 - alpha) * w.ema;
  w.emaCalls++;
  return tripReason(w);
}

function tripReason(w: WindowsState): TripReason | undefined {
  const { options, window } = w;
  if (options.consecutiveFailures !== undefined && w.consecutiveFailures >= options.consecutiveFailures) return 'consecutive';
  const { calls } = window;
  if (calls >= options.minimumCalls) {
    // The quotient, not failureRate · calls: 0.1 · 30 rounds above 3, and 3 failures in 30 would not trip 10 %.
    if (options.failureRate !== undefined && window.failures / calls >= options.failureRate) return 'failureRate';
    if (options.slowCallRate !== undefined && window.slow / calls >= options.slowCallRate) return 'slowCallRate';
  }
  if (options.emaThreshold !== undefined && w.emaCalls >= options.minimumCalls && w.ema >= options.emaThreshold) return 'ema';
  return undefined;
}

/** Forgets every call, the run of failures and the EMA, as the breaker changes state (resilience4j resets its metrics on every transition). */
export function resetWindows(windows: BreakerWindows, now: number): void {
  finiteNow(now);
  const w = windows as WindowsState;
  if (w.window.kind === 'count') clearCountWindow(w.window);
  else clearTimeWindow(w.window, now);
  w.consecutiveFailures = 0;
  w.ema = 0;
  w.emaCalls = 0;
}

/** Counts and rates at `now` (a time window first drops the buckets that left it); never NaN, rates 0 for an empty window. */
export function windowStats(windows: BreakerWindows, now: number): WindowStats {
  const w = windows as WindowsState;
  if (w.window.kind === 'time') advanceTimeWindow(w.window, now);
  const { calls, failures, slow } = w.window;
  return {
    calls,
    failures,
    slow,
    failureRate: calls > 0 ? failures / calls : 0,
    slowRate: calls > 0 ? slow / calls : 0,
    consecutiveFailures: w.consecutiveFailures,
    ema: w.ema,
  };
}

/** A plain JSON copy of the windows, for checkpoints and `toJSON`; {@link restoreWindows} reads it back. */
export function snapshotWindows(windows: BreakerWindows): WindowsSnapshot {
  const { window } = windows;
  return {
    version: 1,
    consecutiveFailures: windows.consecutiveFailures,
    ema: windows.ema,
    emaCalls: windows.emaCalls,
    window:
      window.kind === 'count'
        ? { kind: 'count', size: window.size, outcomes: countWindowOutcomes(window) }
        : { kind: 'time', ms: window.ms, buckets: window.buckets, headEpoch: window.headEpoch, ...timeWindowBuckets(window) },
  };
}

/**
 * Windows for `options` holding what `snapshot` (from {@link snapshotWindows}, possibly through
 * JSON) recorded, moved on to `now`; a malformed snapshot throws CONFIG_INVALID naming
 * `${field}.<path>`.
 *
 * - The run of failures and the EMA are kept whatever the options.
 * - A count window keeps the newest `min(old size, new size)` calls; a time window with the same
 *   bucket length keeps the newest `min(old, new)` buckets; any other window change starts empty.
 * - Bucket times are on the clock of `now`. A snapshot from a clock that is ahead (another
 *   process's monotonic clock, say) is taken as ending now, instead of pinning the window in the future.
 */
export function restoreWindows(options: ResolvedTripOptions, snapshot: unknown, now: number, field = 'snapshot'): BreakerWindows {
  const snap = parseWindowsSnapshot(field, snapshot);
  const w = createWindows(options, now) as WindowsState;
  w.consecutiveFailures = snap.consecutiveFailures;
  w.ema = snap.ema;
  w.emaCalls = snap.emaCalls;
  const from = snap.window;
  const to = w.window;
  if (from.kind === 'count' && to.kind === 'count') {
    const outcomes = from.outcomes.slice(Math.max(0, from.outcomes.length - to.size));
    for (let i = 0; i < outcomes.length; i++) recordInCountWindow(to, outcomes.charCodeAt(i) - 48);
  } else if (from.kind === 'time' && to.kind === 'time' && from.ms / from.buckets === to.bucketMs) {
    fillTimeWindow(to, Math.min(from.headEpoch, to.headEpoch), from);
    advanceTimeWindow(to, now);
  }
  return w;
}

function finiteNow(now: number): void {
  if (!Number.isFinite(now)) throw new ConfigError('now', now, "must be a finite number (the breaker's clock reading, in ms)");
}
