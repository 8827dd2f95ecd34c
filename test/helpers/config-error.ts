import { expect } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';

/** Runs `run`, expects it to throw a ConfigError, and returns it. */
export function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** Asserts code, field and value, and that the message starts with the field and shows the value as `shown`. */
export function expectConfigError(run: () => unknown, field: string, value: unknown, shown: string): ConfigError {
  const error = configErrorOf(run);
  expect(error.code).toBe('CONFIG_INVALID');
  expect(error.field).toBe(field);
  expect(Object.is(error.value, value)).toBe(true);
  expect(error.message.startsWith(`${field} `)).toBe(true);
  expect(error.message).toContain(`got ${shown}`);
  return error;
}
