import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a32, fnv1a32Bytes, fnv1a32Hex, fnv1a64, fnv1a64Bytes } from '../../src/core/fnv1a.js';

/** FNV-1a 32 the textbook way: one byte at a time over the UTF-8 encoding. */
function referenceFnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** draft-eastlake-fnv test strings (its test code hashes each without and with the terminating NUL), plus Noll's short prefixes. */
const VECTORS: ReadonlyArray<readonly [string, string]> = [
  ['', '811c9dc5'],
  ['a', 'e40c292c'],
  ['foobar', 'bf9cf968'],
  ['\0', '050c5d1f'],
  ['a\0', '2b24d044'],
  ['foobar\0', '0c1c9eb8'],
  ['b', 'e70c2de5'],
  ['fo', '6222e842'],
  ['foo', 'a9f37ed7'],
];

/** The draft's fourth test string, "Hello!\x01\xFF\xED": raw bytes, not valid UTF-8. */
const HELLO_BYTES = Uint8Array.from([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x21, 0x01, 0xff, 0xed]);

/** One UTF-16 unit of a test string: any code point, or a lone surrogate half. */
const unicodeUnit = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
);
const unicodeString = fc.string({ unit: unicodeUnit, maxLength: 40 });
/** Strings made of arbitrary UTF-16 code units, so that surrogate halves meet in every order. */
const codeUnitString = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
  .map((units) => String.fromCharCode(...units));

describe('fnv1a32', () => {
  it.each(VECTORS)('hashes %j to the published value %s', (text, expected) => {
    expect(referenceFnv1a32(utf8(text))).toBe(Number.parseInt(expected, 16));
    expect(fnv1a32(text)).toBe(Number.parseInt(expected, 16));
    expect(fnv1a32Bytes(utf8(text))).toBe(Number.parseInt(expected, 16));
  });

  it('hashes the raw bytes of the draft string "Hello!\\x01\\xFF\\xED" to fd9d3881, with its NUL to the reference value', () => {
    expect(fnv1a32Bytes(HELLO_BYTES)).toBe(0xfd9d3881);
    const withNul = Uint8Array.from([...HELLO_BYTES, 0]);
    expect(fnv1a32Bytes(withNul)).toBe(referenceFnv1a32(withNul));
  });

  it('hashes a string as the UTF-8 bytes of its 2-, 3- and 4-byte characters', () => {
    for (const text of ['é', 'ß€', '日本語', '𝄞', '👍🏽', 'a\u07ff\u0800\uffff\u{10000}\u{10ffff}z']) {
      expect(fnv1a32(text)).toBe(referenceFnv1a32(utf8(text)));
    }
  });

  it('hashes a lone surrogate as U+FFFD, as TextEncoder encodes it', () => {
    const replacement = fnv1a32('\ufffd');
    expect(fnv1a32('\ud800')).toBe(replacement);
    expect(fnv1a32('\udfff')).toBe(replacement);
    expect(fnv1a32('x\udbffy')).toBe(fnv1a32('x\ufffdy'));
    expect(fnv1a32('\udc00\ud800')).toBe(fnv1a32('\ufffd\ufffd'));
    expect(fnv1a32('\ud83d\ud83d\udc4d')).toBe(fnv1a32('\ufffd\u{1f44d}'));
  });

  it('agrees with fnv1a32Bytes over the UTF-8 bytes for any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(unicodeString, codeUnitString), (text) => {
        const bytes = new TextEncoder().encode(text);
        expect(fnv1a32(text)).toBe(fnv1a32Bytes(bytes));
        expect(fnv1a32(text)).toBe(referenceFnv1a32(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(codeUnitString, (text) => {
        const h = fnv1a32(text);
        expect(Number.isInteger(h)).toBe(true);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });
});

describe('fnv1a32Bytes', () => {
  it('matches the byte-loop reference for any byte array', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(fnv1a32Bytes(bytes)).toBe(referenceFnv1a32(bytes));
      }),
    );
  });

  it('hashes only the bytes of a subarray view', () => {
    const backing = Uint8Array.from([0xaa, ...utf8('foobar'), 0xbb]);
    expect(fnv1a32Bytes(backing.subarray(1, 7))).toBe(0xbf9cf968);
  });
});

describe('fnv1a32Hex', () => {
  it('renders 8 lowercase hex digits, keeping leading zeros', () => {
    expect(fnv1a32Hex('\0')).toBe('050c5d1f');
    expect(fnv1a32Hex('foobar')).toBe('bf9cf968');
    fc.assert(
      fc.property(unicodeString, (text) => {
        expect(fnv1a32Hex(text)).toMatch(/^[0-9a-f]{8}$/);
        expect(fnv1a32Hex(text)).toBe(hex(fnv1a32(text)));
      }),
    );
  });
});

/** FNV-1a 64 the textbook way, independent of the limb arithmetic: BigInt, one byte at a time. */
function referenceFnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of bytes) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/**
 * Published FNV-1a 64 values: the draft-eastlake-fnv / RFC 9923 test strings with and without
 * their terminating NUL, and Noll's short prefixes from test_fnv.c.
 */
const VECTORS_64: ReadonlyArray<readonly [string, string]> = [
  ['', 'cbf29ce484222325'],
  ['a', 'af63dc4c8601ec8c'],
  ['foobar', '85944171f73967e8'],
  ['\0', 'af63bd4c8601b7df'],
  ['a\0', '089be207b544f1e4'],
  ['foobar\0', '34531ca7168b8f38'],
  ['b', 'af63df4c8601f1a5'],
  ['fo', '08985907b541d342'],
  ['foo', 'dcb27518fed9d577'],
];

describe('fnv1a64', () => {
  it.each(VECTORS_64)('hashes %j to the published value %s', (text, expected) => {
    expect(referenceFnv1a64(utf8(text))).toBe(expected);
    expect(fnv1a64(text)).toBe(expected);
    expect(fnv1a64Bytes(utf8(text))).toBe(expected);
  });

  it('hashes the raw bytes of the draft string "Hello!\\x01\\xFF\\xED" to bd51ea7094ee6fa1, and a0a0fe4d1127ae93 with its NUL', () => {
    expect(fnv1a64Bytes(HELLO_BYTES)).toBe('bd51ea7094ee6fa1');
    expect(fnv1a64Bytes(Uint8Array.from([...HELLO_BYTES, 0]))).toBe('a0a0fe4d1127ae93');
  });

  it('hashes a string as the UTF-8 bytes of its 2-, 3- and 4-byte characters', () => {
    for (const text of ['é', 'ß€', '日本語', '𝄞', '👍🏽', 'a\u07ff\u0800\uffff\u{10000}\u{10ffff}z']) {
      expect(fnv1a64(text)).toBe(referenceFnv1a64(utf8(text)));
    }
  });

  it('hashes a lone surrogate as U+FFFD, as TextEncoder encodes it', () => {
    const replacement = fnv1a64('\ufffd');
    expect(fnv1a64('\ud800')).toBe(replacement);
    expect(fnv1a64('\udfff')).toBe(replacement);
    expect(fnv1a64('x\udbffy')).toBe(fnv1a64('x\ufffdy'));
    expect(fnv1a64('\udc00\ud800')).toBe(fnv1a64('\ufffd\ufffd'));
  });

  it('agrees with fnv1a64Bytes over the UTF-8 bytes for any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(unicodeString, codeUnitString), (text) => {
        const bytes = new TextEncoder().encode(text);
        expect(fnv1a64(text)).toBe(fnv1a64Bytes(bytes));
        expect(fnv1a64(text)).toBe(referenceFnv1a64(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fnv1a64Bytes', () => {
  it('matches the BigInt reference for any byte array', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(fnv1a64Bytes(bytes)).toBe(referenceFnv1a64(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('carries across the 32-bit halves: long runs of 0x00 and 0xff bytes match the reference', () => {
    for (const fill of [0x00, 0xff, 0x80, 0x7f]) {
      const bytes = new Uint8Array(4096).fill(fill);
      expect(fnv1a64Bytes(bytes)).toBe(referenceFnv1a64(bytes));
    }
  });

  it('renders 16 lowercase hex digits, keeping leading zeros', () => {
    expect(fnv1a64Bytes(utf8('fo'))).toBe('08985907b541d342');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(fnv1a64Bytes(bytes)).toMatch(/^[0-9a-f]{16}$/);
      }),
    );
  });

  it('hashes only the bytes of a subarray view', () => {
    const backing = Uint8Array.from([0xaa, ...utf8('foobar'), 0xbb]);
    expect(fnv1a64Bytes(backing.subarray(1, 7))).toBe('85944171f73967e8');
  });
});
