import { ConfigError } from '../core/errors.js';

/** The environment variables a breaker's defaults come from. */
export const BREAKER_ENV = { threshold: 'STEADFAST_BREAKER_THRESHOLD', timeoutMs: 'STEADFAST_BREAKER_TIMEOUT_MS' } as const;

/** Built-in defaults: five failures in a row open a breaker (as cockatiel's ConsecutiveBreaker(5)), for 10 s. */
export const BREAKER_DEFAULTS = { threshold: 5, timeoutMs: 10_000 } as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Failures in a row that open a breaker created without a trip condition:
 * `STEADFAST_BREAKER_THRESHOLD` when set, else 5. A value that is not an integer in [1, 1 000 000]
 * is a CONFIG_INVALID naming the variable.
 */
export function defaultBreakerThreshold(env: Env = process.env): number {
  return fromEnv(env, BREAKER_ENV.threshold, BREAKER_DEFAULTS.threshold, 1_000_000, 'failures in a row that open a breaker');
}

/**
 * How long a breaker created without `openMs` stays open: `STEADFAST_BREAKER_TIMEOUT_MS` when set,
 * else 10 000 ms. A value that is not an integer in [1, 2 147 483 647] is a CONFIG_INVALID naming
 * the variable.
 */
export function defaultBreakerTimeoutMs(env: Env = process.env): number {
  return fromEnv(env, BREAKER_ENV.timeoutMs, BREAKER_DEFAULTS.timeoutMs, 2_147_483_647, 'milliseconds a breaker stays open');
}

/** An unset or empty variable gives the default; surrounding blanks are ignored. */
function fromEnv(env: Env, variable: string, fallback: number, max: number, meaning: string): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const text = raw.trim();
  const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ConfigError(variable, raw, `must be an integer in [1, ${max}] (${meaning})`);
  }
  return value;
}
