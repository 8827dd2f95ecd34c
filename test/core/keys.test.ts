import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectConfigError } from '../helpers/config-error.js';
import {
  deadLetterKey,
  deadLetterPrefix,
  doneKey,
  donePrefix,
  escapeName,
  keyName,
  metaKey,
  parseKey,
  prefixEnd,
  snapshotKey,
  snapshotPrefix,
  unescapeName,
} from '../../src/core/keys.js';

/** Names as users write them, plus the characters the escaping exists for. */
const nameArb = fc
  .string({ unit: fc.oneof(fc.constantFrom('!', '%', '~', '#', '2', '1', '5', 'é', '日', '𝄞'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 30 })
  .filter((text) => [...text].every((c) => c >= ' ' && c !== '\u007f'));
const numberArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('snapshot keys', () => {
  it('formats ckpt!<pipeline>!<stage>!<version as 16 digits>', () => {
    expect(snapshotKey('orders', 'enrich#2', 42)).toBe('ckpt!orders!enrich#2!0000000000000042');
    expect(snapshotKey('orders', 'enrich', Number.MAX_SAFE_INTEGER)).toBe('ckpt!orders!enrich!9007199254740991');
    expect(snapshotPrefix('orders', 'enrich')).toBe('ckpt!orders!enrich!');
  });

  it('rejects versions that are not safe integers >= 0, naming the value', () => {
    expectConfigError(() => snapshotKey('p', 's', -1), 'version', -1, '-1');
    expectConfigError(() => snapshotKey('p', 's', 1.5), 'version', 1.5, '1.5');
    expectConfigError(() => snapshotKey('p', 's', Number.NaN), 'version', Number.NaN, 'NaN');
    expectConfigError(() => snapshotKey('p', 's', 2 ** 53), 'version', 2 ** 53, String(2 ** 53));
  });

  it('round-trips through parseKey for any names and version', () => {
    fc.assert(
      fc.property(nameArb, nameArb, numberArb, (pipeline, stage, version) => {
        expect(parseKey(snapshotKey(pipeline, stage, version))).toEqual({ kind: 'ckpt', pipeline, stage, version });
      }),
      { numRuns: 500 },
    );
  });

  it('sorts newest version first in reverse lexical order, within one stage', () => {
    fc.assert(
      fc.property(nameArb, nameArb, fc.uniqueArray(numberArb, { minLength: 2, maxLength: 20 }), (pipeline, stage, versions) => {
        const keys = versions.map((v) => snapshotKey(pipeline, stage, v));
        const reversed = [...keys].sort().reverse();
        expect(reversed.map((k) => (parseKey(k) as { version: number }).version)).toEqual([...versions].sort((a, b) => b - a));
      }),
    );
  });

  it('keeps one stage\'s keys inside its prefix range, and other stages\' keys out', () => {
    fc.assert(
      fc.property(nameArb, nameArb, nameArb, numberArb, (pipeline, stage, other, version) => {
        const prefix = snapshotPrefix(pipeline, stage);
        const end = prefixEnd(prefix);
        const inside = snapshotKey(pipeline, stage, version);
        expect(inside > prefix && inside < end).toBe(true);
        const outside = snapshotKey(pipeline, other, version);
        expect(outside.startsWith(prefix)).toBe(other === stage);
      }),
    );
  });
});

describe('escaping', () => {
  it('percent-encodes ! and % only', () => {
    expect(escapeName('a!b%c')).toBe('a%21b%25c');
    expect(escapeName('%21')).toBe('%2521');
    expect(escapeName('plain-name_1.x:y#2')).toBe('plain-name_1.x:y#2');
  });

  it('keeps a ! or % in a name from breaking the key apart', () => {
    expect(snapshotKey('a!b', 'c%21', 1)).toBe('ckpt!a%21b!c%2521!0000000000000001');
    expect(parseKey('ckpt!a%21b!c%2521!0000000000000001')).toEqual({ kind: 'ckpt', pipeline: 'a!b', stage: 'c%21', version: 1 });
  });

  it('round-trips any name, and the escaped form never holds a !', () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        const escaped = escapeName(name);
        expect(escaped).not.toContain('!');
        expect(unescapeName(escaped)).toBe(name);
      }),
    );
  });

  it('refuses text that escapeName cannot have produced', () => {
    for (const text of ['', 'a!b', '%', '%2', '%20', '%2f', 'x%41']) expect(unescapeName(text)).toBeUndefined();
  });
});

describe('name checks', () => {
  it('accepts printable names up to 256 characters, replicas and unicode included', () => {
    expect(keyName('stage', 'enrich#0')).toBe('enrich#0');
    expect(keyName('stage', 'x'.repeat(256))).toBe('x'.repeat(256));
    expect(keyName('stage', 'größe 日本')).toBe('größe 日本');
  });

  it('rejects empty, too long, non-string, control and lone-surrogate names', () => {
    expectConfigError(() => snapshotKey('', 's', 1), 'pipeline', '', '""');
    expectConfigError(() => metaKey('p', 'x'.repeat(257)), 'stage', 'x'.repeat(257), `"${'x'.repeat(77)}..."`);
    expectConfigError(() => doneKey('p', 'a\nb'), 'checkpointId', 'a\nb', '"a\\nb"');
    expectConfigError(() => keyName('stage', 7), 'stage', 7, '7');
    expectConfigError(() => keyName('stage', '\ud800'), 'stage', '\ud800', '"\\ud800"');
    expectConfigError(() => keyName('stage', 'x\udc00'), 'stage', 'x\udc00', '"x\\udc00"');
    expectConfigError(() => keyName('stage', 'a\u007fb'), 'stage', 'a\u007fb', '"a\u007fb"');
    expect(keyName('stage', '\ud834\udd1e')).toBe('𝄞');
  });
});

describe('meta and done keys', () => {
  it('formats and parses meta!<pipeline>!<stage>', () => {
    expect(metaKey('orders', 'count')).toBe('meta!orders!count');
    expect(parseKey('meta!orders!count')).toEqual({ kind: 'meta', pipeline: 'orders', stage: 'count' });
  });

  it('formats and parses done!<pipeline>!<checkpointId>', () => {
    expect(doneKey('orders', 'V1StGXR8_Z5jdHi6B-myT')).toBe('done!orders!V1StGXR8_Z5jdHi6B-myT');
    expect(donePrefix('orders')).toBe('done!orders!');
    expect(parseKey('done!orders!abc')).toEqual({ kind: 'done', pipeline: 'orders', checkpointId: 'abc' });
  });

  it('round-trips any names', () => {
    fc.assert(
      fc.property(nameArb, nameArb, (a, b) => {
        expect(parseKey(metaKey(a, b))).toEqual({ kind: 'meta', pipeline: a, stage: b });
        expect(parseKey(doneKey(a, b))).toEqual({ kind: 'done', pipeline: a, checkpointId: b });
      }),
    );
  });
});

describe('dead-letter keys', () => {
  it('formats dlq!<pipeline>!<stage>!<offset as 16 digits>, with ~<n> for a second letter at one offset', () => {
    expect(deadLetterKey('orders', 'enrich', 7)).toBe('dlq!orders!enrich!0000000000000007');
    expect(deadLetterKey('orders', 'enrich', 7, 1)).toBe('dlq!orders!enrich!0000000000000007~1');
    expect(parseKey('dlq!orders!enrich!0000000000000007~3')).toEqual({ kind: 'dlq', pipeline: 'orders', stage: 'enrich', offset: 7, suffix: 3 });
  });

  it('rejects negative or fractional offsets and suffixes', () => {
    expectConfigError(() => deadLetterKey('p', 's', -1), 'offset', -1, '-1');
    expectConfigError(() => deadLetterKey('p', 's', 0.5), 'offset', 0.5, '0.5');
    expectConfigError(() => deadLetterKey('p', 's', 1, -2), 'suffix', -2, '-2');
  });

  it('sorts a suffixed letter right after its offset and before the next offset', () => {
    const keys = [deadLetterKey('p', 's', 8), deadLetterKey('p', 's', 7, 1), deadLetterKey('p', 's', 7)].sort();
    expect(keys.map((k) => parseKey(k))).toMatchObject([{ offset: 7, suffix: 0 }, { offset: 7, suffix: 1 }, { offset: 8, suffix: 0 }]);
  });

  it('has prefixes for all letters, one pipeline and one stage', () => {
    expect(deadLetterPrefix()).toBe('dlq!');
    expect(deadLetterPrefix('a!b')).toBe('dlq!a%21b!');
    expect(deadLetterPrefix('p', 's')).toBe('dlq!p!s!');
  });

  it('round-trips any names, offset and suffix', () => {
    fc.assert(
      fc.property(nameArb, nameArb, numberArb, fc.nat({ max: 1000 }), (pipeline, stage, offset, suffix) => {
        expect(parseKey(deadLetterKey(pipeline, stage, offset, suffix))).toEqual({ kind: 'dlq', pipeline, stage, offset, suffix });
      }),
    );
  });
});

describe('parseKey', () => {
  it('returns undefined for keys of no known format, never throwing', () => {
    const bad = [
      '',
      'ckpt',
      'ckpt!p!s',
      'ckpt!p!s!42',
      'ckpt!p!s!00000000000000042',
      'ckpt!p!s!9999999999999999',
      'ckpt!p!s!0000000000000001~1',
      'ckpt!!s!0000000000000001',
      'ckpt!p%2!s!0000000000000001',
      'meta!p',
      'meta!p!s!x',
      'done!p!',
      'dlq!p!s!0000000000000001~0',
      'dlq!p!s!0000000000000001~01',
      'dlq!p!s!0000000000000001~1~2',
      'other!p!s',
    ];
    for (const key of bad) expect(parseKey(key)).toBeUndefined();
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('ckpt', 'dlq', 'meta', 'done', '!', '%', '21', '25', '0', '1', '~', 'a') }), (text) => {
        expect(() => parseKey(text)).not.toThrow();
      }),
    );
  });

  it('rejects prefixEnd for a prefix that does not end in !', () => {
    expect(prefixEnd('ckpt!p!s!')).toBe('ckpt!p!s"');
    expectConfigError(() => prefixEnd('ckpt'), 'prefix', 'ckpt', '"ckpt"');
  });
});
