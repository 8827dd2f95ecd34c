import { ConfigError } from './errors.js';

/** Throws CONFIG_INVALID unless `value` is an integer within [min, max]. */
export function integerIn(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    if (typeof value === 'number' && Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER) {
      throw new ConfigError(field, value, `must be a safe integer (<= ${Number.MAX_SAFE_INTEGER})`);
    }
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ConfigError(field, value, `must be an integer ${range}`);
  }
  return value;
}

/** Throws CONFIG_INVALID unless `value` is a finite number > 0. */
export function positiveNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(field, value, 'must be a finite number > 0');
  }
  return value;
}

/** Throws CONFIG_INVALID unless `value` is a function. */
export function fn<T extends (...args: never[]) => unknown>(field: string, value: unknown): T {
  if (typeof value !== 'function') throw new ConfigError(field, value, 'must be a function');
  return value as T;
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Throws CONFIG_INVALID unless `value` is a name usable in logs, metrics and checkpoint keys. */
export function name(field: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new ConfigError(field, value, 'must be 1-128 characters of letters, digits, "_", ".", ":" or "-"');
  }
  return value;
}

/** Throws CONFIG_INVALID unless `value` is one of `allowed`. */
export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(field, value, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** Throws CONFIG_INVALID unless `value` is a plain object; returns it typed as a record. */
export function record(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(field, value, 'must be an object');
  }
  return value as Record<string, unknown>;
}

/** Throws CONFIG_INVALID when `options` has a key outside `known` (catches typos such as `maxBacth`). */
export function knownKeys(field: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${field}.${key}`, options[key], `is not a known option (known: ${known.join(', ')})`);
    }
  }
}
