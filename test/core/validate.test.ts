import { describe, expect, it } from 'vitest';
import { expectConfigError } from '../helpers/config-error.js';
import { fn, integerIn, knownKeys, name, oneOf, positiveNumber, record } from '../../src/core/validate.js';

/** Asserts the common shape: code, field, value and the value named in the message. */
const expectRejected = expectConfigError;

describe('integerIn', () => {
  it('returns integers within the range, bounds included', () => {
    expect(integerIn('n', 1, 1, 10)).toBe(1);
    expect(integerIn('n', 10, 1, 10)).toBe(10);
    expect(integerIn('n', 0, 0)).toBe(0);
    expect(integerIn('n', Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects fractions, non-numbers, NaN and infinities, naming the value', () => {
    expectRejected(() => integerIn('retries', 1.5, 0, 10), 'retries', 1.5, '1.5');
    expectRejected(() => integerIn('retries', '3', 0, 10), 'retries', '3', '"3"');
    expectRejected(() => integerIn('retries', Number.NaN, 0), 'retries', Number.NaN, 'NaN');
    expectRejected(() => integerIn('retries', Number.POSITIVE_INFINITY, 0), 'retries', Number.POSITIVE_INFINITY, 'Infinity');
    expectRejected(() => integerIn('retries', undefined, 0), 'retries', undefined, 'undefined');
    expectRejected(() => integerIn('retries', 3n, 0), 'retries', 3n, '3n');
  });

  it('rejects integers outside the range and states the range', () => {
    const below = expectRejected(() => integerIn('mailbox', 0, 1, 64), 'mailbox', 0, '0');
    expect(below.message).toBe('mailbox must be an integer in [1, 64], got 0');
    const above = expectRejected(() => integerIn('mailbox', 65, 1, 64), 'mailbox', 65, '65');
    expect(above.message).toContain('in [1, 64]');
    expect(expectRejected(() => integerIn('offset', 2 ** 60, 0), 'offset', 2 ** 60, String(2 ** 60)).message).toContain('must be a safe integer');
    const open = expectRejected(() => integerIn('mailbox', -1, 0), 'mailbox', -1, '-1');
    expect(open.message).toBe('mailbox must be an integer >= 0, got -1');
  });

  it('rejects integers beyond the safe range', () => {
    expectRejected(() => integerIn('n', 2 ** 60, 1), 'n', 2 ** 60, String(2 ** 60));
  });
});

describe('positiveNumber', () => {
  it('returns finite numbers above 0', () => {
    expect(positiveNumber('ms', 0.001)).toBe(0.001);
    expect(positiveNumber('ms', 5000)).toBe(5000);
  });

  it('rejects 0, negatives, NaN, infinities and non-numbers, naming the value', () => {
    expectRejected(() => positiveNumber('openMs', 0), 'openMs', 0, '0');
    expectRejected(() => positiveNumber('openMs', -5), 'openMs', -5, '-5');
    expectRejected(() => positiveNumber('openMs', Number.NaN), 'openMs', Number.NaN, 'NaN');
    expectRejected(() => positiveNumber('openMs', Number.POSITIVE_INFINITY), 'openMs', Number.POSITIVE_INFINITY, 'Infinity');
    const error = expectRejected(() => positiveNumber('openMs', '100'), 'openMs', '100', '"100"');
    expect(error.message).toBe('openMs must be a finite number > 0, got "100"');
  });
});

describe('fn', () => {
  it('returns the function it is given', () => {
    const handler = (): number => 1;
    expect(fn('handler', handler)).toBe(handler);
  });

  it('rejects anything else, naming the value', () => {
    expectRejected(() => fn('handler', 'run'), 'handler', 'run', '"run"');
    expectRejected(() => fn('handler', null), 'handler', null, 'null');
    const callable = { call: (): number => 1 };
    expectRejected(() => fn('handler', callable), 'handler', callable, '{}');
  });
});

describe('name', () => {
  it('accepts letters, digits, "_", ".", ":" and "-", from 1 to 128 characters', () => {
    expect(name('stage.name', 'enrich')).toBe('enrich');
    expect(name('stage.name', 'Geo_v2.lookup:eu-west-1')).toBe('Geo_v2.lookup:eu-west-1');
    expect(name('stage.name', 'a'.repeat(128))).toBe('a'.repeat(128));
    expect(name('stage.name', '7')).toBe('7');
  });

  it('rejects empty, too long, spaced, non-ASCII and key-separator names, naming the value', () => {
    expectRejected(() => name('stage.name', ''), 'stage.name', '', '""');
    expectRejected(() => name('stage.name', 'a'.repeat(129)), 'stage.name', 'a'.repeat(129), `"${'a'.repeat(77)}..."`);
    expectRejected(() => name('stage.name', 'has space'), 'stage.name', 'has space', '"has space"');
    expectRejected(() => name('stage.name', 'über'), 'stage.name', 'über', '"über"');
    expectRejected(() => name('stage.name', 'ckpt!x'), 'stage.name', 'ckpt!x', '"ckpt!x"');
    expectRejected(() => name('stage.name', 'a/b'), 'stage.name', 'a/b', '"a/b"');
  });

  it('rejects a name with a trailing newline', () => {
    expectRejected(() => name('stage.name', 'enrich\n'), 'stage.name', 'enrich\n', '"enrich\\n"');
  });

  it('rejects non-strings', () => {
    expectRejected(() => name('stage.name', 42), 'stage.name', 42, '42');
    expectRejected(() => name('stage.name', undefined), 'stage.name', undefined, 'undefined');
  });
});

describe('oneOf', () => {
  const strategies = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;

  it('returns an allowed value', () => {
    expect(oneOf('strategy', 'one_for_all', strategies)).toBe('one_for_all');
  });

  it('rejects other values and lists the allowed ones', () => {
    const error = expectRejected(() => oneOf('strategy', 'one-for-one', strategies), 'strategy', 'one-for-one', '"one-for-one"');
    expect(error.message).toBe(`strategy must be one of 'one_for_one', 'one_for_all', 'rest_for_one', got "one-for-one"`);
    expectRejected(() => oneOf('strategy', 1, strategies), 'strategy', 1, '1');
  });
});

describe('record', () => {
  it('returns the same object', () => {
    const options = { a: 1 };
    expect(record('options', options)).toBe(options);
    const bare = Object.create(null) as object;
    expect(record('options', bare)).toBe(bare);
  });

  it('rejects null, arrays, functions and primitives, naming the value', () => {
    expectRejected(() => record('options', null), 'options', null, 'null');
    const list = [1, 2];
    expectRejected(() => record('options', list), 'options', list, 'array(2)');
    expectRejected(() => record('options', 'a=1'), 'options', 'a=1', '"a=1"');
    const make = function make(): void {};
    expectRejected(() => record('options', make), 'options', make, 'function make');
  });
});

describe('knownKeys', () => {
  const known = ['maxBatch', 'mailbox'];

  it('accepts objects whose keys are all known, and empty objects', () => {
    expect(() => knownKeys('stage', { maxBatch: 8, mailbox: 64 }, known)).not.toThrow();
    expect(() => knownKeys('stage', {}, known)).not.toThrow();
  });

  it('rejects a typo, naming the key as the field, its value, and the known options', () => {
    const error = expectRejected(() => knownKeys('stage', { mailbox: 64, maxBacth: 8 }, known), 'stage.maxBacth', 8, '8');
    expect(error.message).toBe('stage.maxBacth is not a known option (known: maxBatch, mailbox), got 8');
  });
});
