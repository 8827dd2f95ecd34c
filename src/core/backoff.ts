import { ConfigError } from './errors.js';
import { knownKeys, record } from './validate.js';

/** Delay before a restart: `min(maxMs, minMs · factor^attempt)`, randomised by `jitter`, with `attempt` reset after `resetAfterMs` up. */
export interface BackoffOptions {
  /** Delay of the first restart (attempt 0), in ms; 0 turns backoff off. */
  minMs: number;
  /** Ceiling of the delay, in ms. */
  maxMs: number;
  /** Growth per attempt; 1 keeps the delay at `minMs`. */
  factor: number;
  /** Share of the delay drawn at random, in [0, 1]: the delay lies in [base · (1 − jitter), base]. */
  jitter: number;
  /** A child that stayed up this long (ms) since its last (re)start starts again from attempt 0. */
  resetAfterMs: number;
}

/** Backoff settings used when a supervisor gives none (100 ms doubling up to 30 s, 20 % jitter, reset after a minute up). */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  minMs: 100,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
  resetAfterMs: 60_000,
});

const KNOWN = ['minMs', 'maxMs', 'factor', 'jitter', 'resetAfterMs'] as const;

/** Checks a partial backoff object (`undefined` = all defaults) over {@link DEFAULT_BACKOFF}; a mistake is a CONFIG_INVALID naming the field and the value. */
export function backoffOptions(field: string, value: unknown): BackoffOptions {
  const opts = value === undefined ? {} : record(field, value);
  knownKeys(field, opts, KNOWN);
  const minMs = finite(`${field}.minMs`, opts.minMs, DEFAULT_BACKOFF.minMs, (n) => n >= 0, 'must be a finite number >= 0');
  const maxMs = finite(`${field}.maxMs`, opts.maxMs, DEFAULT_BACKOFF.maxMs, (n) => n >= minMs, `must be a finite number >= minMs (${minMs})`);
  // Only minMs was given, above the default ceiling: blame the field the caller wrote.
  if (maxMs < minMs) throw new ConfigError(`${field}.minMs`, minMs, `must be a finite number <= maxMs (${maxMs})`);
  const factor = finite(`${field}.factor`, opts.factor, DEFAULT_BACKOFF.factor, (n) => n >= 1, 'must be a finite number >= 1');
  const jitter = finite(`${field}.jitter`, opts.jitter, DEFAULT_BACKOFF.jitter, (n) => n >= 0 && n <= 1, 'must be a finite number in [0, 1]');
  const resetAfterMs = finite(`${field}.resetAfterMs`, opts.resetAfterMs, DEFAULT_BACKOFF.resetAfterMs, (n) => n >= 0, 'must be a finite number >= 0');
  return { minMs, maxMs, factor, jitter, resetAfterMs };
}

function finite(field: string, value: unknown, fallback: number, ok: (n: number) => boolean, expected: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new ConfigError(field, value, expected);
  return value;
}

/**
 * Milliseconds to wait before restart number `attempt` (0 for the first): a finite number in
 * [base · (1 − jitter), base] where base = min(maxMs, minMs · factor^attempt), for any attempt.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = backoffBase(attempt, options);
  const { jitter } = options;
  if (jitter === 0 || base === 0) return base;
  const delay = base * (1 - jitter) + base * jitter * unit(random());
  // Rounding of the sum may land one ulp above base; the promise is "never above base".
  return delay < base ? delay : base;
}

function backoffBase(attempt: number, { minMs, maxMs, factor }: BackoffOptions): number {
  // NaN, negatives and fractions: floor, at least 0; Infinity stays and simply reaches the ceiling.
  const n = attempt > 0 ? Math.floor(attempt) : 0;
  if (minMs === 0) return 0;
  if (minMs >= maxMs) return maxMs;
  if (factor <= 1) return minMs;
  // Past this attempt minMs · factor^n would exceed maxMs: answer before exponentiating, so that a
  // huge attempt never meets Infinity (and 0 · Infinity never makes NaN).
  const ceilingAt = (Math.log(maxMs) - Math.log(minMs)) / Math.log(factor);
  if (n >= ceilingAt) return maxMs;
  const base = minMs * factor ** n;
  return base < maxMs ? base : maxMs;
}

/** A random draw made safe: values outside [0, 1] (or NaN) from a faulty source are clamped, 0 for NaN. */
function unit(r: number): number {
  if (r > 0) return r < 1 ? r : 1;
  return 0;
}

/**
 * The attempt number of the next restart: 0 when the child stayed up at least `resetAfterMs` since
 * its last (re)start, else `previousAttempt + 1` (floored, at least 0, so that -1 can mean "never
 * restarted"; saturating at `Number.MAX_SAFE_INTEGER`).
 */
export function nextAttempt(previousAttempt: number, upForMs: number, options: BackoffOptions): number {
  if (upForMs >= options.resetAfterMs) return 0;
  if (!(previousAttempt >= 0)) return 0;
  const n = Math.floor(previousAttempt);
  return n >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n + 1;
}
