import { describe, expect, it } from 'vitest';
import { isSink } from '../../src/sinks/sink.js';
import { toArray } from '../../src/sinks/to-array.js';

describe('toArray', () => {
  it('keeps items and their offsets in arrival order across writes', () => {
    const sink = toArray<string>();
    sink.write(['a', 'b'], [0, 1]);
    sink.write([], []);
    sink.write(['c'], [5]);
    expect(sink.items).toEqual(['a', 'b', 'c']);
    expect(sink.offsets).toEqual([0, 1, 5]);
  });

  it('writes synchronously, returning no promise', () => {
    const sink = toArray<number>();
    expect(sink.write([1], [0])).toBeUndefined();
    expect(sink.items).toEqual([1]);
  });

  it('keeps the very values written, duplicates and undefined included', () => {
    const sink = toArray<unknown>();
    const value = { id: 1 };
    sink.write([value, value, undefined], [3, 3, 4]);
    expect(sink.items[0]).toBe(value);
    expect(sink.items[1]).toBe(value);
    expect(sink.items).toHaveLength(3);
    expect(sink.offsets).toEqual([3, 3, 4]);
  });

  it('does not keep a reference to the batch arrays it was given', () => {
    const sink = toArray<number>();
    const values = [1, 2];
    const offsets = [0, 1];
    sink.write(values, offsets);
    values.push(3);
    offsets.push(2);
    expect(sink.items).toEqual([1, 2]);
    expect(sink.offsets).toEqual([0, 1]);
  });

  it('is a sink named "array", and each call gives a separate one', () => {
    const a = toArray<number>();
    const b = toArray<number>();
    expect(isSink(a)).toBe(true);
    expect(a.kind).toBe('sink');
    expect(a.name).toBe('array');
    a.write([1], [0]);
    expect(b.items).toEqual([]);
  });
});
