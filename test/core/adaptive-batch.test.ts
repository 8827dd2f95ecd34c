import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LATENCY_EMA_ALPHA, nextBatchSize, updatePerEventMs } from '../../src/core/adaptive-batch.js';

describe('updatePerEventMs', () => {
  it('weighs the newest sample by 0.2', () => {
    expect(LATENCY_EMA_ALPHA).toBe(0.2);
  });

  it('takes the first sample (previous NaN) as is: batch time over batch size', () => {
    expect(updatePerEventMs(Number.NaN, 30, 3)).toBe(10);
    expect(updatePerEventMs(Number.NaN, 0, 5)).toBe(0);
    expect(updatePerEventMs(Number.NaN, 1, 4)).toBe(0.25);
  });

  it('folds later samples in as 0.2 × sample + 0.8 × previous', () => {
    expect(updatePerEventMs(10, 50, 1)).toBe(18);
    expect(updatePerEventMs(18, 6, 2)).toBeCloseTo(0.2 * 3 + 0.8 * 18, 12);
    expect(updatePerEventMs(10, 20, 2)).toBe(10);
  });

  it('follows a sequence of batches exactly', () => {
    let perEvent = Number.NaN;
    perEvent = updatePerEventMs(perEvent, 40, 4); // first sample: 10
    expect(perEvent).toBe(10);
    perEvent = updatePerEventMs(perEvent, 20, 1); // 0.2 × 20 + 0.8 × 10
    expect(perEvent).toBeCloseTo(12, 12);
    perEvent = updatePerEventMs(perEvent, 5, 5); // 0.2 × 1 + 0.8 × 12
    expect(perEvent).toBeCloseTo(9.8, 12);
  });

  it('ignores a non-finite or negative batch time', () => {
    for (const batchMs of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1]) {
      expect(updatePerEventMs(7, batchMs, 3)).toBe(7);
      expect(updatePerEventMs(Number.NaN, batchMs, 3)).toBeNaN();
    }
  });

  it('ignores an empty or negative batch size', () => {
    expect(updatePerEventMs(7, 10, 0)).toBe(7);
    expect(updatePerEventMs(7, 10, -2)).toBe(7);
    expect(updatePerEventMs(Number.NaN, 10, 0)).toBeNaN();
  });

  it('ignores a non-finite batch size', () => {
    expect(updatePerEventMs(7, 10, Number.NaN)).toBe(7);
    expect(updatePerEventMs(7, 10, Number.POSITIVE_INFINITY)).toBe(7);
  });

  it('moves the average toward the sample without passing it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        (previous, batchMs, batchSize) => {
          const sample = batchMs / batchSize;
          const next = updatePerEventMs(previous, batchMs, batchSize);
          expect(next).toBeGreaterThanOrEqual(Math.min(previous, sample) * (1 - 1e-12));
          expect(next).toBeLessThanOrEqual(Math.max(previous, sample) * (1 + 1e-12));
        },
      ),
    );
  });
});

describe('nextBatchSize', () => {
  it('probes with a batch of 1 while nothing has been measured (NaN)', () => {
    expect(nextBatchSize(Number.NaN, 10, 256)).toBe(1);
  });

  it('allows maxBatch when the measured time per event is 0 (too fast for the clock)', () => {
    expect(nextBatchSize(0, 10, 256)).toBe(256);
  });

  it('fits as many events as the target time allows, rounding down', () => {
    expect(nextBatchSize(0.5, 10, 256)).toBe(20);
    expect(nextBatchSize(0.3, 10, 256)).toBe(33);
    expect(nextBatchSize(2.5, 10, 256)).toBe(4);
    expect(nextBatchSize(3, 10, 256)).toBe(3);
  });

  it('clamps to at least 1 when one event takes longer than the target', () => {
    expect(nextBatchSize(100, 10, 256)).toBe(1);
    expect(nextBatchSize(10.000001, 10, 256)).toBe(1);
    expect(nextBatchSize(Number.POSITIVE_INFINITY, 10, 256)).toBe(1);
  });

  it('clamps to at most maxBatch when events are cheap', () => {
    expect(nextBatchSize(0.01, 10, 256)).toBe(256);
    expect(nextBatchSize(10 / 256, 10, 256)).toBe(256);
    expect(nextBatchSize(10 / 255, 10, 256)).toBe(255);
  });

  it('answers an integer in [1, maxBatch] for any measured time', () => {
    fc.assert(
      fc.property(
        fc.double({ min: Number.MIN_VALUE, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 1 << 20 }),
        (perEventMs, targetBatchMs, maxBatch) => {
          const size = nextBatchSize(perEventMs, targetBatchMs, maxBatch);
          expect(Number.isInteger(size)).toBe(true);
          expect(size).toBeGreaterThanOrEqual(1);
          expect(size).toBeLessThanOrEqual(maxBatch);
        },
      ),
    );
  });
});
