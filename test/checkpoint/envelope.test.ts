import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a64Bytes } from '../../src/core/fnv1a.js';
import { jsonCodec, v8Codec } from '../../src/checkpoint/codec.js';
import { V8_NOT_TRUSTED, open, seal, storedChecksum, unseal } from '../../src/checkpoint/envelope.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const sealJson = (value: unknown): Uint8Array => seal('json', jsonCodec.encode(value));

describe('seal', () => {
  it('writes `<16 hex fnv1a64> <codec>\\n` then the payload', () => {
    const sealed = seal('json', new TextEncoder().encode('{"a":1}'));
    const checksum = fnv1a64Bytes(new TextEncoder().encode('json\n{"a":1}'));
    expect(text(sealed)).toBe(`${checksum} json\n{"a":1}`);
    expect(storedChecksum(sealed)).toBe(checksum);
  });

  it('checksums the codec name and newline too, not only the payload', () => {
    const payload = new Uint8Array([1, 2, 3]);
    expect(storedChecksum(seal('json', payload))).not.toBe(storedChecksum(seal('v8', payload)));
    expect(storedChecksum(seal('json', payload))).not.toBe(fnv1a64Bytes(payload));
  });
});

describe('open', () => {

  it('round-trips any JSON value through seal, with its checksum', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const sealed = sealJson(value);
        const opened = open(sealed);
        // The json codec drops `__proto__` keys (fast-check does generate them) and keeps -0.
        const expected = JSON.parse(JSON.stringify(value), (key, v: unknown) => (key === '__proto__' ? undefined : v)) as unknown;
        expect(opened).toMatchObject({ ok: true, codec: 'json', checksum: storedChecksum(sealed) });
        // JSON.stringify writes -0 as 0: compare through it, so that only the keys count here.
        expect(JSON.stringify(opened.ok ? opened.value : undefined)).toBe(JSON.stringify(expected));
      }),
    );
  });

  it('round-trips v8 payloads', () => {
    const opened = open(seal('v8', v8Codec.encode({ n: 5n })));
    expect(opened).toMatchObject({ ok: true, codec: 'v8', value: { n: 5n } });
  });

  it('reports any single flipped bit after the checksum digits as a mismatch naming expected and actual', () => {
    const sealed = sealJson({ state: { count: 42, name: 'orders' } });
    fc.assert(
      fc.property(fc.integer({ min: 17, max: sealed.length - 1 }), fc.integer({ min: 0, max: 7 }), (index, bit) => {
        const broken = sealed.slice();
        broken[index] = (broken[index] as number) ^ (1 << bit);
        const opened = open(broken);
        expect(opened.ok).toBe(false);
        const actual = fnv1a64Bytes(broken.subarray(17));
        expect(opened).toEqual({ ok: false, reason: expect.stringContaining(`expected ${storedChecksum(sealed)}, actual ${actual}`) });
      }),
      { numRuns: 300 },
    );
  });

  it('reports a damaged checksum digit as a mismatch or a bad header', () => {
    const sealed = sealJson({ a: 1 });
    const digit = sealed.slice();
    digit[3] = digit[3] === 0x30 ? 0x31 : 0x30;
    expect(open(digit)).toMatchObject({ ok: false, reason: expect.stringMatching(/^checksum mismatch: expected [0-9a-f]{16}, actual [0-9a-f]{16}$/) });
    const upper = sealed.slice();
    upper[0] = 0x47; // 'G'
    expect(open(upper)).toEqual({ ok: false, reason: expect.stringMatching(/^bad header/) });
  });

  it('rejects headers that are short, unspaced or without a newline', () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('cbf29ce484222325'), new TextEncoder().encode('cbf29ce484222325xjson\n{}')]) {
      expect(open(bytes)).toEqual({ ok: false, reason: expect.stringMatching(/^bad header/) });
    }
    const noNewline = new TextEncoder().encode(`${'0'.repeat(16)} json{}`);
    noNewline.set(new TextEncoder().encode(fnv1a64Bytes(noNewline.subarray(17))), 0);
    expect(open(noNewline)).toEqual({ ok: false, reason: 'bad header: no codec name ended by a newline' });
  });

  it('names an unknown codec whose checksum is right', () => {
    expect(unseal(seal('json', new Uint8Array(0)))).toMatchObject({ ok: true, codec: 'json' });
    const forged = new TextEncoder().encode(`${'0'.repeat(16)} msgpack\n\u0001`);
    const checksum = fnv1a64Bytes(forged.subarray(17));
    forged.set(new TextEncoder().encode(checksum), 0);
    expect(open(forged)).toEqual({ ok: false, reason: 'unknown codec "msgpack"' });
  });

  it('reports a payload its codec cannot decode', () => {
    const opened = open(seal('json', new TextEncoder().encode('{"a":')));
    expect(opened).toEqual({ ok: false, reason: expect.stringMatching(/^json decode failed: /) });
    const v8 = open(seal('v8', Uint8Array.from([0xff, 0x0f, 0x6f, 0x22])));
    expect(v8).toEqual({ ok: false, reason: expect.stringMatching(/^v8 decode failed: /) });
  });

  it('does not decode v8 when told not to, and says why', () => {
    const sealed = seal('v8', v8Codec.encode({ a: 1 }));
    expect(open(sealed, { decodeV8: false })).toEqual({ ok: false, reason: V8_NOT_TRUSTED });
    expect(open(sealJson({ a: 1 }), { decodeV8: false })).toMatchObject({ ok: true, value: { a: 1 } });
  });

  it('refuses another codec than the one a kind of value must use', () => {
    const sealed = seal('v8', v8Codec.encode({ a: 1 }));
    expect(open(sealed, { codec: 'json' })).toEqual({ ok: false, reason: 'unexpected codec "v8": this value is always json' });
  });

  it('opens a subarray view at an offset of a larger buffer', () => {
    const sealed = sealJson({ a: 1 });
    const backing = new Uint8Array(sealed.length + 10);
    backing.set(sealed, 5);
    expect(open(backing.subarray(5, 5 + sealed.length))).toMatchObject({ ok: true, value: { a: 1 } });
  });
});
