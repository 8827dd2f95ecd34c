import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSteadfastError } from '../../src/core/errors.js';
import { codecOf, isCodecName, jsonCodec, v8Codec } from '../../src/checkpoint/codec.js';
import type { CodecLoss, JsonEncodeOptions } from '../../src/checkpoint/json-tags.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function encodeError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(isSteadfastError(error, 'CHECKPOINT_ENCODE_FAILED')).toBe(true);
    return error as Error;
  }
  throw new Error('expected CHECKPOINT_ENCODE_FAILED, nothing was thrown');
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const roundTrip = (value: unknown): unknown => jsonCodec.decode(jsonCodec.encode(value));

/** Keys a user may choose, the awkward ones often: tag look-alikes, constructor, prototype. */
const keyArb = fc.oneof(fc.string(), fc.constantFrom('$sf', '$$sf', '$$$sf', 'v', 'constructor', 'prototype', 'toString', '$', 'sf')).filter((k) => k !== '__proto__');

/** Every kind of value the json codec keeps as it is. */
const { value: supportedArb } = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.double(),
    fc.integer(),
    fc.bigInt(),
    // Invalid dates are checked apart: deepStrictEqual finds two of them unequal (NaN !== NaN).
    fc.date({ noInvalidDate: true }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
  ),
  item: fc.oneof({ weight: 5, arbitrary: tie('value') }, { weight: 1, arbitrary: fc.constant(undefined) }),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('item'), { maxLength: 5 }),
    fc.dictionary(keyArb, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    fc.array(fc.tuple(tie('item'), tie('item')), { maxLength: 4 }).map((entries) => new Map(entries)),
    fc.array(tie('item'), { maxLength: 4 }).map((items) => new Set(items)),
    // A user object shaped like a tag must come back as that object.
    fc.record({ $sf: fc.constantFrom('Map', 'Set', 'Date', 'BigInt', 'Number', 'undefined', 'nope'), v: tie('value') }, { noNullPrototype: true }),
  ),
})) as { value: fc.Arbitrary<unknown> };

describe('the json codec', () => {
  it('round-trips Maps, Sets, dates, BigInts, NaN, ±Infinity, -0, undefined items and tag look-alikes exactly', () => {
    fc.assert(
      fc.property(supportedArb, (value) => {
        // node's deep strict equality: prototypes, -0, NaN, holes and own `constructor` keys all count.
        assert.deepStrictEqual(roundTrip(value), value);
      }),
      { numRuns: 500 },
    );
  });

  it('writes plain data as the same text JSON.stringify writes', () => {
    fc.assert(
      // Through JSON first: fc.jsonValue() holds -0, which JSON writes as 0 and the codec keeps.
      fc.property(fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown), (value) => {
        fc.pre(!JSON.stringify(value).includes('$') && !JSON.stringify(value).includes('__proto__'));
        expect(text(jsonCodec.encode(value))).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes plain JSON from any writer as JSON.parse does, less __proto__ keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = JSON.stringify(value);
        fc.pre(!json.includes('$sf') && !json.includes('__proto__'));
        expect(jsonCodec.decode(utf8(json))).toStrictEqual(JSON.parse(json));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes as UTF-8 JSON text, with tags for what JSON would change', () => {
    expect(text(jsonCodec.encode({ a: 'é', n: [1, 2] }))).toBe('{"a":"é","n":[1,2]}');
    expect(text(jsonCodec.encode({ m: new Map([['k', 1]]), s: new Set([1n]), d: new Date(0), n: [Number.NaN, undefined] }))).toBe(
      '{"m":{"$sf":"Map","v":[["k",1]]},"s":{"$sf":"Set","v":[{"$sf":"BigInt","v":"1"}]},"d":{"$sf":"Date","v":"1970-01-01T00:00:00.000Z"},"n":[{"$sf":"Number","v":"NaN"},{"$sf":"undefined"}]}',
    );
  });

  it('escapes user keys that look like the tag key, at any depth', () => {
    const value = { $sf: 'Map', v: [[1, 2]], inner: { $$sf: 1, list: [{ $sf: 'BigInt', v: '1' }] } };
    expect(text(jsonCodec.encode(value))).toBe('{"$$sf":"Map","v":[[1,2]],"inner":{"$$$sf":1,"list":[{"$$sf":"BigInt","v":"1"}]}}');
    assert.deepStrictEqual(roundTrip(value), value);
  });

  it('keeps an invalid date invalid', () => {
    const decoded = roundTrip({ at: new Date(Number.NaN) }) as { at: Date };
    expect(decoded.at).toBeInstanceOf(Date);
    expect(Number.isNaN(decoded.at.getTime())).toBe(true);
  });

  it('encodes BigInts instead of failing', () => {
    expect(roundTrip({ n: 2n ** 70n, neg: -5n })).toStrictEqual({ n: 2n ** 70n, neg: -5n });
  });

  it('keeps constructor and prototype keys at every depth', () => {
    const value = { constructor: { prototype: { x: 1 } }, list: [{ prototype: 3 }], m: new Map([['constructor', { constructor: 1 }]]) };
    assert.deepStrictEqual(roundTrip(value), value);
    assert.deepStrictEqual(jsonCodec.decode(utf8('{"a":{"constructor":{"prototype":{"polluted":2}},"keep":1}}')), { a: { constructor: { prototype: { polluted: 2 } }, keep: 1 } });
  });

  it('fails with CHECKPOINT_ENCODE_FAILED on a circular reference, naming where', () => {
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    expect(encodeError(() => jsonCodec.encode({ state: { items: [cyclic] } })).message).toMatch(/circular reference at state\.items\[0\]\.self/);
    const inMap = new Map<string, unknown>();
    inMap.set('me', inMap);
    expect(encodeError(() => jsonCodec.encode(inMap)).message).toMatch(/circular reference at \.get\("me"\)/);
  });

  it('shares a repeated (not circular) reference as JSON does: twice', () => {
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: [shared], m: new Map([[1, shared]]) })).toStrictEqual({ a: { x: 1 }, b: [{ x: 1 }], m: new Map([[1, { x: 1 }]]) });
  });

  it('reports what it leaves out or flattens: functions, symbols, class instances, __proto__ keys, with their paths', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    const losses: CodecLoss[] = [];
    const own = JSON.parse('{"__proto__":{"polluted":1},"ok":1}') as object;
    const value = { cb: () => 1, list: [Symbol('s'), 1], at: new Point(1, 2), deep: { m: new Map([['k', function named() {}]]) }, own };
    const decoded = jsonCodec.decode(jsonCodec.encode(value, { onLoss: (loss) => losses.push(loss) }));
    expect(decoded).toStrictEqual({ list: [null, 1], at: { x: 1, y: 2 }, deep: { m: new Map([['k', null]]) }, own: { ok: 1 } });
    expect(losses.map(({ kind, path }) => [kind, path])).toEqual([
      ['function', 'cb'],
      ['symbol', 'list[0]'],
      ['instance', 'at'],
      ['function', 'deep.m.get("k")'],
      ['key', 'own.__proto__'],
    ]);
    expect(losses[2]!.detail).toMatch(/instance of Point .*prototype is not kept/);
  });

  it('applies toJSON as JSON does, and reports a class instance encoded through it', () => {
    class Money {
      constructor(private readonly cents: number) {}
      toJSON() {
        return { cents: this.cents, big: BigInt(this.cents) };
      }
    }
    const losses: CodecLoss[] = [];
    const decoded = jsonCodec.decode(jsonCodec.encode({ price: new Money(250), plain: { toJSON: () => 'plain' } }, { onLoss: (loss) => losses.push(loss) }));
    expect(decoded).toStrictEqual({ price: { cents: 250, big: 250n }, plain: 'plain' });
    expect(losses.map(({ kind, path }) => [kind, path])).toEqual([['instance', 'price']]);
  });

  it('with placeholders, replaces functions, symbols and cycles by described objects', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const decoded = roundTripWith({ event: { cb: () => 1, tag: Symbol('t'), loop: cyclic, n: 1n } }, { placeholders: true });
    expect(decoded).toStrictEqual({
      event: {
        cb: { $unencodable: 'function', path: 'event.cb' },
        tag: { $unencodable: 'symbol', path: 'event.tag' },
        loop: { self: { $unencodable: 'cycle', path: 'event.loop.self' } },
        n: 1n,
      },
    });
  });

  it('drops __proto__ keys at every depth, and leaves nothing to pollute with', () => {
    const json = '{"__proto__":{"polluted":1},"a":{"__proto__":{"polluted":2},"keep":1},"list":[{"__proto__":3,"x":4}],"m":{"$sf":"Map","v":[["k",{"__proto__":{"polluted":3}}]]}}';
    const decoded = jsonCodec.decode(utf8(json)) as Record<string, unknown>;
    expect(decoded).toStrictEqual({ a: { keep: 1 }, list: [{ x: 4 }], m: new Map([['k', {}]]) });
    expect(Object.prototype.hasOwnProperty.call(decoded, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    const assigned = Object.assign({}, decoded, decoded.a) as Record<string, unknown>;
    expect(assigned.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('catches __proto__ and tag keys hidden behind \\u escapes', () => {
    assert.deepStrictEqual(jsonCodec.decode(utf8('{"\\u005f_proto__":{"polluted":1},"\\u0063onstructor":1,"ok":"\\u00e9"}')), { constructor: 1, ok: 'é' });
    expect(jsonCodec.decode(utf8('{"\\u0024sf":"BigInt","v":"7"}'))).toBe(7n);
  });

  it('shows what would happen without the guard: plain JSON.parse then Object.assign swaps the prototype', () => {
    const raw = JSON.parse('{"__proto__":{"polluted":true}}') as object;
    expect((Object.assign({}, raw) as Record<string, unknown>).polluted).toBe(true);
  });

  it('throws on bytes that are not UTF-8 JSON, and on malformed or unknown tags', () => {
    expect(() => jsonCodec.decode(utf8('{"a":'))).toThrow();
    expect(() => jsonCodec.decode(Uint8Array.from([0x22, 0xff, 0x22]))).toThrow();
    for (const bad of ['{"$sf":"Regex","v":"x"}', '{"$sf":"BigInt","v":"1.5"}', '{"$sf":"Map","v":[[1]]}', '{"$sf":"Date","v":"never"}', '{"$sf":"Number","v":"1"}', '{"$sf":"Set","v":[],"x":1}']) {
      expect(() => jsonCodec.decode(utf8(bad)), bad).toThrow(/tag/);
    }
  });
});

function roundTripWith(value: unknown, options: JsonEncodeOptions): unknown {
  return jsonCodec.decode(jsonCodec.encode(value, options));
}

describe('the v8 codec', () => {
  it('round-trips what JSON cannot hold: BigInts, Maps, Sets, dates, cycles', () => {
    const cyclic: Record<string, unknown> = { n: 2n ** 70n, map: new Map([[1, 'a']]), set: new Set(['x']), at: new Date(0) };
    cyclic.self = cyclic;
    const decoded = v8Codec.decode(v8Codec.encode(cyclic)) as Record<string, unknown>;
    expect(decoded.n).toBe(2n ** 70n);
    expect(decoded.map).toEqual(new Map([[1, 'a']]));
    expect(decoded.set).toEqual(new Set(['x']));
    expect(decoded.at).toEqual(new Date(0));
    expect(decoded.self).toBe(decoded);
  });

  it('fails with CHECKPOINT_ENCODE_FAILED on functions and symbols', () => {
    expect(encodeError(() => v8Codec.encode({ f: () => 1 })).message).toContain('the v8 codec cannot encode the value');
    expect(encodeError(() => v8Codec.encode(Symbol('s'))).message).toContain('v8 codec');
  });
});

describe('codecOf and isCodecName', () => {
  it('names the two codecs and nothing else', () => {
    expect(codecOf('json')).toBe(jsonCodec);
    expect(codecOf('v8')).toBe(v8Codec);
    expect(isCodecName('json')).toBe(true);
    expect(isCodecName('v8')).toBe(true);
    for (const name of ['JSON', 'msgpack', '', undefined, 8]) expect(isCodecName(name)).toBe(false);
  });
});
