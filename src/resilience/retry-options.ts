import { ConfigError, isSteadfastError, type SteadfastErrorCode } from '../core/errors.js';
import { fn, integerIn, knownKeys, oneOf, record } from '../core/validate.js';

/**
 * How the delay before retry `n` (0 for the first retry) grows: `exponential` base · factor^n,
 * `linear` base · (n + 1), `constant` base, each capped at `maxDelayMs` and then jittered;
 * `decorrelated` is AWS's "decorrelated jitter", min(maxDelayMs, random in [baseMs, previous · 3]).
 */
export type RetryBackoff = 'exponential' | 'linear' | 'constant' | 'decorrelated';

/** What `onRetry` hears: attempt `attempt` (1-based) failed with `error`, and the next starts in `delayMs`. */
export interface RetryInfo {
  readonly attempt: number;
  readonly error: unknown;
  readonly delayMs: number;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts in all, the first included (an integer >= 1): 1 never retries, 4 is "3 retries". */
  maxAttempts: number;
  /** How delays grow; `exponential` unless given. */
  backoff?: RetryBackoff;
  /** The first delay (ms, >= 0; > 0 for `decorrelated`); 100 unless given. */
  baseMs?: number;
  /** The ceiling of every delay (ms, >= baseMs); 30 000 unless given. */
  maxDelayMs?: number;
  /** Growth per retry for `exponential` only (>= 1); 2 unless given. */
  factor?: number;
  /** Share of each delay drawn at random, in [0, 1] (the delay lies in [d · (1 − jitter), d]); 0.2 unless given; not for `decorrelated`. */
  jitter?: number;
  /** Whether a failure of attempt `attempt` may be retried; {@link defaultRetryOn} unless given. A refused error is rethrown as is. */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /** Told before each delay; throwing from it rejects the call with what it threw. */
  onRetry?: (info: RetryInfo) => void;
  /** Stops every call of this policy (as the caller's own signal stops one call): a waiting retry ends at once with an AbortedError. */
  signal?: AbortSignal;
  /** Source of randomness in [0, 1) for jitter (Math.random unless given; tests inject one). */
  random?: () => number;
}

/** Defaults of the optional delay settings. */
export const RETRY_DEFAULTS = Object.freeze({
  backoff: 'exponential' as RetryBackoff,
  baseMs: 100,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.2,
});

// Errors by which a protective mechanism refused the call on purpose, or its caller gave up:
// retrying would only add the load it sheds (or ignore the caller), so they are passed on.
const NOT_RETRIED: ReadonlySet<SteadfastErrorCode> = new Set<SteadfastErrorCode>([
  'ABORTED',
  'CIRCUIT_OPEN',
  'BULKHEAD_REJECTED',
  'RETRY_EXHAUSTED',
  'CONFIG_INVALID',
]);

/**
 * The default `retryOn`: every error is retried (a TimeoutError included) except AbortedError,
 * CircuitOpenError, BulkheadRejectedError, RetryExhaustedError (of a nested retry) and ConfigError.
 */
export function defaultRetryOn(error: unknown): boolean {
  return !(isSteadfastError(error) && NOT_RETRIED.has(error.code));
}

/** Retry options checked and completed with their defaults. */
export interface RetrySettings {
  readonly maxAttempts: number;
  readonly backoff: RetryBackoff;
  readonly baseMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly retryOn: (error: unknown, attempt: number) => boolean;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly random: () => number;
}

const KNOWN = ['maxAttempts', 'backoff', 'baseMs', 'maxDelayMs', 'factor', 'jitter', 'retryOn', 'onRetry', 'signal', 'random'];
const BACKOFFS: readonly RetryBackoff[] = ['exponential', 'linear', 'constant', 'decorrelated'];
/** The longest delay setTimeout takes (about 24.8 days). */
const MAX_DELAY_MS = 2_147_483_647;

/** Checks retry options under `field` (`extra` names further keys the caller handles); a mistake is a ConfigError naming the field and the value. */
export function retrySettings(field: string, value: unknown, extra: readonly string[]): RetrySettings {
  const opts = record(field, value);
  knownKeys(field, opts, [...KNOWN, ...extra]);
  const maxAttempts = integerIn(`${field}.maxAttempts`, opts.maxAttempts, 1);
  const backoff = opts.backoff === undefined ? RETRY_DEFAULTS.backoff : oneOf(`${field}.backoff`, opts.backoff, BACKOFFS);
  const baseMs = delay(`${field}.baseMs`, opts.baseMs, RETRY_DEFAULTS.baseMs, backoff === 'decorrelated' ? 'a finite number in (0, 2147483647] for decorrelated backoff' : undefined);
  let maxDelayMs: number = RETRY_DEFAULTS.maxDelayMs;
  if (opts.maxDelayMs !== undefined) {
    maxDelayMs = delay(`${field}.maxDelayMs`, opts.maxDelayMs, maxDelayMs, undefined);
    if (maxDelayMs < baseMs) throw new ConfigError(`${field}.maxDelayMs`, maxDelayMs, `must be >= baseMs (${baseMs})`);
  } else if (baseMs > maxDelayMs) {
    throw new ConfigError(`${field}.baseMs`, baseMs, `must be <= maxDelayMs (${maxDelayMs}); give a larger maxDelayMs`);
  }
  const factor = onlyFor(field, 'factor', opts.factor, backoff, ['exponential'], RETRY_DEFAULTS.factor, (n) => n >= 1, 'a finite number >= 1');
  const jitter = onlyFor(field, 'jitter', opts.jitter, backoff, ['exponential', 'linear', 'constant'], RETRY_DEFAULTS.jitter, (n) => n >= 0 && n <= 1, 'a finite number in [0, 1]');
  const retryOn = opts.retryOn === undefined ? defaultRetryOn : fn<RetrySettings['retryOn']>(`${field}.retryOn`, opts.retryOn);
  const onRetry = opts.onRetry === undefined ? undefined : fn<(info: RetryInfo) => void>(`${field}.onRetry`, opts.onRetry);
  const random = opts.random === undefined ? Math.random : fn<() => number>(`${field}.random`, opts.random);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw new ConfigError(`${field}.signal`, opts.signal, 'must be an AbortSignal');
  }
  const signal = opts.signal as AbortSignal | undefined;
  return { maxAttempts, backoff, baseMs, maxDelayMs, factor, jitter, retryOn, onRetry, signal, random };
}

function delay(field: string, value: unknown, fallback: number, positive: string | undefined): number {
  const ms = value === undefined ? fallback : value;
  const min = positive === undefined ? 0 : Number.MIN_VALUE;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < min || ms > MAX_DELAY_MS) {
    throw new ConfigError(field, ms, `must be ${positive ?? `a finite number in [0, ${MAX_DELAY_MS}]`}`);
  }
  return ms;
}

function onlyFor(
  field: string,
  key: 'factor' | 'jitter',
  value: unknown,
  backoff: RetryBackoff,
  kinds: readonly RetryBackoff[],
  fallback: number,
  ok: (n: number) => boolean,
  expected: string,
): number {
  if (value === undefined) return fallback;
  if (!kinds.includes(backoff)) {
    throw new ConfigError(`${field}.${key}`, value, `applies to ${kinds.join(', ')} backoff only, not '${backoff}'`);
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new ConfigError(`${field}.${key}`, value, `must be ${expected}`);
  return value;
}

