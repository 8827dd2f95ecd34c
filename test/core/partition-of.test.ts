import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSteadfastError } from '../../src/core/errors.js';
import { fnv1a32 } from '../../src/core/fnv1a.js';
import { partitionOf } from '../../src/core/partition-of.js';

describe('partitionOf', () => {
  it('is FNV-1a 32 of the key modulo the partitions: always in range, the same for the same key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 65_536 }), (key, partitions) => {
        const p = partitionOf(key, partitions);
        expect(Number.isInteger(p) && p >= 0 && p < partitions).toBe(true);
        expect(p).toBe(fnv1a32(key) % partitions);
        expect(partitionOf(key, partitions)).toBe(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('pins known keys to known partitions (a change would move every key between releases)', () => {
    expect(partitionOf('', 8)).toBe(0x811c9dc5 % 8);
    expect(partitionOf('a', 8)).toBe(0xe40c292c % 8);
    expect(partitionOf('foobar', 8)).toBe(0xbf9cf968 % 8);
    expect([partitionOf('foobar', 8), partitionOf('user-42', 8), partitionOf('user-43', 8)]).toEqual([0, 3, 0]);
  });

  it('spreads many keys about evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 80_000; i++) counts[partitionOf(`user-${i}`, 8)] = (counts[partitionOf(`user-${i}`, 8)] as number) + 1;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('refuses a partition count that is not an integer in [1, 65536], and a key that is not a string', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 65_537]) {
      expect(() => partitionOf('k', bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'partitions' }));
    }
    let error: unknown;
    try {
      partitionOf(42 as never, 8);
    } catch (e) {
      error = e;
    }
    expect(isSteadfastError(error, 'CONFIG_INVALID')).toBe(true);
  });
});
