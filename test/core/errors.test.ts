import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  SinkWriteError,
  SourceParseError,
  StageCallError,
  SteadfastError,
  describeValue,
  isSteadfastError,
  messageOf,
} from '../../src/core/errors.js';

describe('SteadfastError', () => {
  it('carries its code, message and cause, and is an Error', () => {
    const cause = new Error('disk full');
    const error = new SteadfastError('SOURCE_FAILED', 'cannot read', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toBe('cannot read');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('SteadfastError');
  });

  it('has no cause property when none is given', () => {
    expect('cause' in new SteadfastError('STOP_TIMEOUT', 'slow')).toBe(false);
    expect('cause' in new SteadfastError('STOP_TIMEOUT', 'slow', {})).toBe(false);
  });

  it('takes its name from the subclass', () => {
    expect(new ConfigError('f', 1, 'must be 2').name).toBe('ConfigError');
    expect(new SinkWriteError('m', { events: [], offsets: [] }).name).toBe('SinkWriteError');
    expect(new SourceParseError('/x', 1, new Error('e')).name).toBe('SourceParseError');
  });
});

describe('isSteadfastError', () => {
  it('recognises steadfast errors, with or without a code', () => {
    const error = new ConfigError('retries', -1, 'must be >= 0');
    expect(isSteadfastError(error)).toBe(true);
    expect(isSteadfastError(error, 'CONFIG_INVALID')).toBe(true);
    expect(isSteadfastError(error, 'STAGE_CRASHED')).toBe(false);
  });

  it('rejects plain errors and non-objects', () => {
    for (const value of [new Error('x'), null, undefined, 'CONFIG_INVALID', 42, { code: 'CONFIG_INVALID' }]) {
      expect(isSteadfastError(value)).toBe(false);
    }
  });

  it('recognises an error from another copy of the package by its global brand', () => {
    const foreign = Object.assign(new Error('from elsewhere'), { code: 'PUSH_OVERFLOW', [Symbol.for('steadfast.error')]: true });
    expect(isSteadfastError(foreign)).toBe(true);
    expect(isSteadfastError(foreign, 'PUSH_OVERFLOW')).toBe(true);
    expect(isSteadfastError(foreign, 'SOURCE_ENDED')).toBe(false);
  });
});

describe('ConfigError', () => {
  it('has code CONFIG_INVALID, the field, the value, and both in the message', () => {
    const error = new ConfigError('stage "a".mailbox', 1.5, 'must be an integer >= 1');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.field).toBe('stage "a".mailbox');
    expect(error.value).toBe(1.5);
    expect(error.message).toBe('stage "a".mailbox must be an integer >= 1, got 1.5');
  });

  it('can be built for a value that cannot be serialised', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const error = new ConfigError('options', cyclic, 'must be plain');
    expect(error.value).toBe(cyclic);
    expect(error.message).toBe('options must be plain, got [object Object]');
  });
});

describe('StageCallError and SinkWriteError', () => {
  it('keep the failed events and offsets and the cause', () => {
    const cause = new TypeError('bad');
    const call = new StageCallError('STAGE_CALL_FAILED', 'enrich', 'enrich failed', { offsets: [3, 4], events: ['c', 'd'] }, cause);
    expect(call.code).toBe('STAGE_CALL_FAILED');
    expect(call.stage).toBe('enrich');
    expect(call.offsets).toEqual([3, 4]);
    expect(call.events).toEqual(['c', 'd']);
    expect(call.cause).toBe(cause);

    const sink = new SinkWriteError('sink failed', { events: [undefined], offsets: [9] }, cause);
    expect(sink.code).toBe('SINK_WRITE_FAILED');
    expect(sink.events).toEqual([undefined]);
    expect(sink.offsets).toEqual([9]);
    expect(sink.cause).toBe(cause);
  });
});

describe('SourceParseError', () => {
  it('names the path, the 1-based line and the parser message', () => {
    const cause = new SyntaxError('Unexpected token o');
    const error = new SourceParseError('/data/in.ndjson', 7, cause);
    expect(error.code).toBe('SOURCE_PARSE_FAILED');
    expect(error.path).toBe('/data/in.ndjson');
    expect(error.line).toBe(7);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('/data/in.ndjson:7 is not valid JSON: Unexpected token o');
  });
});

describe('describeValue', () => {
  it('quotes strings as JSON', () => {
    expect(describeValue('abc')).toBe('"abc"');
    expect(describeValue('two\nlines "q"')).toBe('"two\\nlines \\"q\\""');
    expect(describeValue('')).toBe('""');
  });

  it('truncates strings longer than 80 characters to 77 and an ellipsis', () => {
    expect(describeValue('x'.repeat(80))).toBe(`"${'x'.repeat(80)}"`);
    expect(describeValue('x'.repeat(81))).toBe(`"${'x'.repeat(77)}..."`);
    expect(describeValue('y'.repeat(10_000))).toBe(`"${'y'.repeat(77)}..."`);
  });

  it('renders primitives as String() does', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(1.5)).toBe('1.5');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(describeValue(true)).toBe('true');
  });

  it('marks BigInts with n and renders symbols with their description', () => {
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue(-(2n ** 70n))).toBe('-1180591620717411303424n');
    expect(describeValue(Symbol('token'))).toBe('Symbol(token)');
    expect(describeValue(Symbol())).toBe('Symbol()');
  });

  it('names functions, and anonymous ones as such', () => {
    function handler(): void {}
    expect(describeValue(handler)).toBe('function handler');
    expect(describeValue(Object.defineProperty(() => 1, 'name', { value: '' }))).toBe('function (anonymous)');
    expect(describeValue(class Widget {})).toBe('function Widget');
  });

  it('gives the length of arrays rather than their contents', () => {
    expect(describeValue([])).toBe('array(0)');
    expect(describeValue([1, [2], { a: 3 }])).toBe('array(3)');
  });

  it('renders objects as JSON, truncated past 80 characters', () => {
    expect(describeValue({ a: 1, b: 'x' })).toBe('{"a":1,"b":"x"}');
    const long = describeValue({ text: 'z'.repeat(200) });
    expect(long).toHaveLength(80);
    expect(long).toBe(`{"text":"${'z'.repeat(68)}...`);
  });

  it('falls back to the object tag for cyclic objects and objects holding a BigInt', () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
    expect(describeValue({ big: 1n })).toBe('[object Object]');
    expect(describeValue(new Map([[1, 2n]]))).toBe('{}');
  });

  it('falls back when toJSON throws or returns nothing', () => {
    expect(describeValue({ toJSON: () => { throw new Error('no'); } })).toBe('[object Object]');
    expect(describeValue({ toJSON: () => undefined })).toBe('[object Object]');
  });

  it('never throws, even for a proxy whose every trap throws', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        ownKeys() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    expect(() => describeValue(hostile)).not.toThrow();
  });

  it('never throws for a revoked proxy', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => describeValue(proxy)).not.toThrow();
  });

  it('never throws and stays on one line for any JSON-like, BigInt-holding or null-prototype value', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
          withUnicodeString: true,
        }),
        (value) => {
          const text = describeValue(value);
          expect(typeof text).toBe('string');
          expect(text).not.toContain('\n');
        },
      ),
    );
  });
});

describe('messageOf', () => {
  it('returns the message of an Error and describes anything else thrown', () => {
    expect(messageOf(new RangeError('too far'))).toBe('too far');
    expect(messageOf('plain string')).toBe('"plain string"');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
    expect(messageOf({ code: 'E' })).toBe('{"code":"E"}');
  });
});
