import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSteadfastError } from '../../src/core/errors.js';
import { codecOf, isCodecName, jsonCodec, v8Codec } from '../../src/checkpoint/codec.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The decoded value the codec should give: the same tree without the three poisoned keys. */
function withoutPoisonedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPoisonedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (key !== '__proto__' && key !== 'constructor' && key !== 'prototype') kept[key] = withoutPoisonedKeys(member);
  }
  return kept;
}

function encodeError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(isSteadfastError(error, 'CHECKPOINT_ENCODE_FAILED')).toBe(true);
    return error as Error;
  }
  throw new Error('expected CHECKPOINT_ENCODE_FAILED, nothing was thrown');
}

describe('the json codec', () => {
  it('round-trips JSON values, less any __proto__, constructor or prototype member', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(withoutPoisonedKeys(JSON.parse(JSON.stringify(value))));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes as UTF-8 JSON text', () => {
    expect(new TextDecoder().decode(jsonCodec.encode({ a: 'é', n: [1, 2] }))).toBe('{"a":"é","n":[1,2]}');
  });

  it('fails with CHECKPOINT_ENCODE_FAILED on BigInts, cycles and values without a JSON form', () => {
    expect(encodeError(() => jsonCodec.encode({ n: 1n })).message).toMatch(/json codec cannot encode.*BigInt/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(encodeError(() => jsonCodec.encode({ state: cyclic })).message).toMatch(/circular/i);
    expect(encodeError(() => jsonCodec.encode(undefined)).message).toContain('undefined has no JSON form');
    expect(encodeError(() => jsonCodec.encode(() => 1)).message).toContain('function has no JSON form');
  });

  it('drops __proto__, constructor and prototype keys at every depth', () => {
    const text = '{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"polluted":2}},"keep":1},"list":[{"prototype":3,"x":4}]}';
    const decoded = jsonCodec.decode(utf8(text)) as Record<string, unknown>;
    expect(decoded).toEqual({ a: { keep: 1 }, list: [{ x: 4 }] });
    expect(Object.prototype.hasOwnProperty.call(decoded, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('catches poisoned keys hidden behind \\u escapes', () => {
    const text = '{"\\u005f_proto__":{"polluted":1},"\\u0063onstructor":1,"ok":"\\u00e9"}';
    expect(jsonCodec.decode(utf8(text))).toEqual({ ok: 'é' });
  });

  it('leaves nothing for Object.assign or spreading to pollute with', () => {
    const decoded = jsonCodec.decode(utf8('{"__proto__":{"polluted":true},"nested":{"__proto__":{"polluted":true}}}')) as Record<string, Record<string, unknown>>;
    const assigned = Object.assign({}, decoded) as Record<string, unknown>;
    const spread = { ...decoded } as Record<string, unknown>;
    const nested = Object.assign({}, decoded.nested) as Record<string, unknown>;
    for (const target of [assigned, spread, nested]) {
      expect(target.polluted).toBeUndefined();
      expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('shows what would happen without the guard: plain JSON.parse then Object.assign swaps the prototype', () => {
    const raw = JSON.parse('{"__proto__":{"polluted":true}}') as object;
    expect((Object.assign({}, raw) as Record<string, unknown>).polluted).toBe(true);
  });

  it('throws on bytes that are not UTF-8 JSON', () => {
    expect(() => jsonCodec.decode(utf8('{"a":'))).toThrow();
    expect(() => jsonCodec.decode(Uint8Array.from([0x22, 0xff, 0x22]))).toThrow();
  });
});

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
