import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, record } from '../core/validate.js';
import { resolveBreakerOptions } from './circuit-breaker-options.js';
import type { CircuitBreakerOptions } from './circuit-breaker-options.js';
import { retrySettings, type RetryOptions } from './retry-options.js';

/** A stage's degraded mode, checked. */
export type ResolvedDegraded =
  | { kind: 'skip' }
  | { kind: 'deadLetter' }
  | { kind: 'backpressure' }
  | { kind: 'fallback'; fallback: (event: unknown, state: unknown, ctx: unknown) => unknown }
  | { kind: 'cache'; key: (event: unknown) => unknown; size: number }
  | { kind: 'auto'; fallback: ((event: unknown, state: unknown, ctx: unknown) => unknown) | undefined; cache: { key: (event: unknown) => unknown; size: number } | undefined };

/** Checks a stage's `retry` now (so that a mistake fails `defineStage`), keeping the options as given. */
export function checkRetry(field: string, value: unknown): RetryOptions {
  retrySettings(field, value, []);
  return value as RetryOptions;
}

/** Checks a stage's `breaker` (`true` for the defaults) with the rules of any breaker. */
export function checkBreaker(field: string, value: unknown, stage: string): Omit<CircuitBreakerOptions, 'name'> {
  if (value === true) return {};
  const opts = record(field, value);
  for (const key of ['name', 'registry', 'initialState']) {
    if (opts[key] !== undefined) throw new ConfigError(`${field}.${key}`, opts[key], 'is set by the pipeline for a stage breaker');
  }
  try {
    resolveBreakerOptions({ ...opts, name: stage, registry: null });
  } catch (error) {
    throw error instanceof ConfigError ? error.under(field, 'circuitBreaker') : error;
  }
  return opts as Omit<CircuitBreakerOptions, 'name'>;
}

const MODES = ['skip', 'deadLetter', 'backpressure', 'auto'] as const;

/** Checks a stage's `degraded` mode. */
export function resolveDegraded(field: string, value: unknown): ResolvedDegraded {
  if (typeof value === 'string') {
    if (!(MODES as readonly string[]).includes(value)) throw new ConfigError(field, value, `must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, { fallback } or { cache }`);
    if (value === 'auto') return { kind: 'auto', fallback: undefined, cache: undefined };
    return { kind: value as 'skip' | 'deadLetter' | 'backpressure' };
  }
  const spec = record(field, value);
  knownKeys(field, spec, ['fallback', 'cache', 'auto']);
  const fallback = spec.fallback === undefined ? undefined : fn<(event: unknown, state: unknown, ctx: unknown) => unknown>(`${field}.fallback`, spec.fallback);
  const cache = spec.cache === undefined ? undefined : cacheOptions(`${field}.cache`, spec.cache);
  if (spec.auto === true) return { kind: 'auto', fallback, cache };
  if (spec.auto !== undefined) throw new ConfigError(`${field}.auto`, spec.auto, 'must be true');
  if ((fallback === undefined) === (cache === undefined)) throw new ConfigError(field, value, 'must have exactly one of `fallback` and `cache` (or `auto: true` with either)');
  return fallback !== undefined ? { kind: 'fallback', fallback } : { kind: 'cache', ...(cache as { key: (event: unknown) => unknown; size: number }) };
}

function cacheOptions(field: string, value: unknown): { key: (event: unknown) => unknown; size: number } {
  const spec = record(field, value);
  knownKeys(field, spec, ['key', 'size']);
  return {
    key: fn<(event: unknown) => unknown>(`${field}.key`, spec.key),
    size: spec.size === undefined ? 1_000 : integerIn(`${field}.size`, spec.size, 1, 10_000_000),
  };
}
