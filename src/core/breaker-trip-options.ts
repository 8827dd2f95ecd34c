import { ConfigError } from './errors.js';
import { integerIn, knownKeys, oneOf, positiveNumber, record } from './validate.js';

/** The last `size` calls. */
export interface CountWindowOptions {
  kind: 'count';
  size: number;
}

/** The calls of the last `ms`, counted in `buckets` buckets of `ms / buckets` each (`ms` a multiple of `buckets`). */
export interface TimeWindowOptions {
  kind: 'time';
  ms: number;
  buckets: number;
}

/** When a closed circuit breaker should open; every condition is optional, and any enabled one trips it. */
export interface TripOptions {
  /** Trip on the n-th failure in a row (a success resets the run). */
  consecutiveFailures?: number;
  /** Trip when failures / calls in the window reach this share, in (0, 1]. */
  failureRate?: number;
  /** Trip when slow calls / calls in the window reach this share, in (0, 1]; needs `slowCallMs`. */
  slowCallRate?: number;
  /** A call that lasts longer than this (ms, strictly) is slow, whether it succeeded or failed. */
  slowCallMs?: number;
  /** Weight of the newest call in the EMA of the failure rate, in (0, 1]; default 0.1. */
  emaAlpha?: number;
  /** Trip when the EMA of the failure rate reaches this value, in (0, 1]. */
  emaThreshold?: number;
  /** No rate condition (failureRate, slowCallRate, emaThreshold) trips with fewer calls than this; default 10. */
  minimumCalls?: number;
  /** The window of `failureRate` and `slowCallRate`; default the last 100 calls. */
  window?: CountWindowOptions | TimeWindowOptions;
}

/** Trip options checked and completed by {@link tripOptions}; `undefined` means the condition is off. */
export interface ResolvedTripOptions {
  readonly consecutiveFailures: number | undefined;
  readonly failureRate: number | undefined;
  readonly slowCallRate: number | undefined;
  readonly slowCallMs: number | undefined;
  readonly emaAlpha: number;
  readonly emaThreshold: number | undefined;
  readonly minimumCalls: number;
  readonly window: Readonly<CountWindowOptions> | Readonly<TimeWindowOptions>;
}

/** Defaults of {@link tripOptions}: a count window of 100 calls, 10 calls at least for a rate, EMA weight 0.1. */
export const TRIP_DEFAULTS = Object.freeze({ windowSize: 100, minimumCalls: 10, emaAlpha: 0.1 });

/** Upper bounds of the window sizes: each slot or bucket is memory held by the breaker and work on a clear. */
export const TRIP_LIMITS = Object.freeze({ windowSize: 1_000_000, buckets: 10_000, windowMs: 2_147_483_647 });

/** The keys {@link tripOptions} reads, for callers that check a larger options object with `knownKeys`. */
export const TRIP_OPTION_KEYS = Object.freeze([
  'consecutiveFailures',
  'failureRate',
  'slowCallRate',
  'slowCallMs',
  'emaAlpha',
  'emaThreshold',
  'minimumCalls',
  'window',
] as const);

/**
 * Checks the trip conditions of a breaker's options object (other keys are left to the caller, see
 * {@link TRIP_OPTION_KEYS}) and fills in the defaults; a mistake throws CONFIG_INVALID naming the
 * field (`${field}.failureRate`) and the value.
 *
 * - Rates and `emaAlpha` lie in (0, 1]; `slowCallMs` is a finite number > 0 and `slowCallRate`
 *   requires it; at least one of `consecutiveFailures`, `failureRate`, `slowCallRate`,
 *   `emaThreshold` must be set (a window alone trips nothing).
 * - A count window holds 1 to 1,000,000 calls; a time window lasts 1 to 2^31 − 1 ms in 1 to 10,000
 *   buckets, and `ms` must be a multiple of `buckets` so that every bucket spans whole milliseconds.
 * - With a count window, an explicit `minimumCalls` above `size` could never be met and is an
 *   error; the default (10) is lowered to `size` instead, as resilience4j does.
 *
 * @example
 * const trip = tripOptions('breaker', { failureRate: 0.5, window: { kind: 'time', ms: 10_000, buckets: 10 } });
 */
export function tripOptions(field: string, value: unknown): ResolvedTripOptions {
  const opts = record(field, value);
  const consecutiveFailures = optional(opts.consecutiveFailures, (v) => integerIn(`${field}.consecutiveFailures`, v, 1));
  const failureRate = optional(opts.failureRate, (v) => share(`${field}.failureRate`, v));
  const slowCallRate = optional(opts.slowCallRate, (v) => share(`${field}.slowCallRate`, v));
  const slowCallMs = optional(opts.slowCallMs, (v) => positiveNumber(`${field}.slowCallMs`, v));
  if (slowCallRate !== undefined && slowCallMs === undefined) {
    throw new ConfigError(`${field}.slowCallMs`, undefined, 'must be set when slowCallRate is (calls longer than slowCallMs are the slow ones)');
  }
  const emaAlpha = optional(opts.emaAlpha, (v) => share(`${field}.emaAlpha`, v)) ?? TRIP_DEFAULTS.emaAlpha;
  const emaThreshold = optional(opts.emaThreshold, (v) => share(`${field}.emaThreshold`, v));
  const window = windowOptions(`${field}.window`, opts.window);
  const minimumCalls = minimumCallsOf(`${field}.minimumCalls`, opts.minimumCalls, window);
  if (consecutiveFailures === undefined && failureRate === undefined && slowCallRate === undefined && emaThreshold === undefined) {
    throw new ConfigError(field, value, 'must enable a trip condition: consecutiveFailures, failureRate, slowCallRate or emaThreshold');
  }
  return Object.freeze({ consecutiveFailures, failureRate, slowCallRate, slowCallMs, emaAlpha, emaThreshold, minimumCalls, window });
}

function windowOptions(field: string, value: unknown): Readonly<CountWindowOptions> | Readonly<TimeWindowOptions> {
  if (value === undefined) return Object.freeze({ kind: 'count', size: TRIP_DEFAULTS.windowSize });
  const opts = record(field, value);
  const kind = oneOf(`${field}.kind`, opts.kind, ['count', 'time'] as const);
  if (kind === 'count') {
    knownKeys(field, opts, ['kind', 'size']);
    return Object.freeze({ kind, size: integerIn(`${field}.size`, opts.size, 1, TRIP_LIMITS.windowSize) });
  }
  knownKeys(field, opts, ['kind', 'ms', 'buckets']);
  const ms = integerIn(`${field}.ms`, opts.ms, 1, TRIP_LIMITS.windowMs);
  const buckets = integerIn(`${field}.buckets`, opts.buckets, 1, Math.min(TRIP_LIMITS.buckets, ms));
  if (ms % buckets !== 0) {
    throw new ConfigError(`${field}.buckets`, buckets, `must divide ${field}.ms (${ms}) evenly, so that every bucket spans whole milliseconds`);
  }
  return Object.freeze({ kind, ms, buckets });
}

function minimumCallsOf(field: string, value: unknown, window: Readonly<CountWindowOptions> | Readonly<TimeWindowOptions>): number {
  const cap = window.kind === 'count' ? window.size : Number.MAX_SAFE_INTEGER;
  if (value === undefined) return Math.min(TRIP_DEFAULTS.minimumCalls, cap);
  const minimumCalls = integerIn(field, value, 1);
  if (minimumCalls > cap) {
    throw new ConfigError(field, value, `must be at most the count window's size (${cap}), or the window could never hold enough calls`);
  }
  return minimumCalls;
}

function optional<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}

function share(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new ConfigError(field, value, 'must be a number in (0, 1]');
  return value;
}
