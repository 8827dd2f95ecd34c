import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/observability/ring-buffer.js';

describe('RingBuffer', () => {
  it('keeps the newest `capacity` items, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    ring.push(1);
    ring.push(2);
    expect(ring.toArray()).toEqual([1, 2]);
    ring.push(3);
    ring.push(4);
    ring.push(5);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
  });

  it('holds the last items of any sequence, as slicing would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 100 }), (capacity, items) => {
        const ring = new RingBuffer<number>(capacity);
        for (const item of items) ring.push(item);
        expect(ring.toArray()).toEqual(items.slice(-capacity));
      }),
    );
  });

  it('refuses a capacity that is not a positive integer, naming it', () => {
    expect(() => new RingBuffer(0)).toThrow('RingBuffer capacity should be a positive integer, got 0');
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
  });
});
