import type { RetryOptions } from './retry-options.js';

/** A named set of retry numbers, usable as `retry(preset)` or spread and overridden: `retry({ ...preset, retryOn })`. */
export type RetryPreset = Readonly<Pick<RetryOptions, 'maxAttempts' | 'baseMs' | 'maxDelayMs'>>;

function preset(retries: number, baseMs: number, maxDelayMs: number): RetryPreset {
  // A preset counts retries after the first attempt; maxAttempts counts every attempt.
  return Object.freeze({ maxAttempts: retries + 1, baseMs, maxDelayMs });
}

/**
 * Retry presets: `transient` 3 retries (4 attempts), 1 s base, 30 s ceiling; `external` 5 retries,
 * 2 s, 60 s; `critical` 10 retries, 0.5 s, 120 s; `aggressive` 7 retries, 0.1 s, 10 s; `none` a
 * single attempt. Every preset uses the default backoff (exponential, factor 2, jitter 0.2) and the
 * default `retryOn`; the objects are frozen.
 *
 * @example
 * const policy = retry(presets.external);
 * const onlyServerErrors = retry({ ...presets.transient, retryOn: (error) => isServerError(error) });
 */
export const presets = Object.freeze({
  transient: preset(3, 1_000, 30_000),
  external: preset(5, 2_000, 60_000),
  critical: preset(10, 500, 120_000),
  aggressive: preset(7, 100, 10_000),
  none: Object.freeze<RetryPreset>({ maxAttempts: 1 }),
});

/** The name of a retry preset. */
export type RetryPresetName = keyof typeof presets;
