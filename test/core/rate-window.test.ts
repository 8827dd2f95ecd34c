// The sliding window behind the recent rates of stats() (issue 12, item 5), on a simulated clock.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { RateWindow } from '../../src/core/rate-window.js';
import { SimulatedClock } from '../../src/core/simulated-clock.js';

describe('RateWindow', () => {
  it('measures the rate over the last window, forgetting what came before it', async () => {
    const clock = new SimulatedClock();
    const window = new RateWindow(10_000);
    let total = 0;
    expect(window.record(clock.monotonic(), total)).toBe(0); // one sample: no span yet
    // 20 s at 100/s, read every second
    for (let s = 0; s < 20; s++) {
      await clock.advance(1_000);
      total += 100;
      expect(window.record(clock.monotonic(), total)).toBeCloseTo(100, 9);
    }
    // then 14/s: after one second the window still holds 9 s of the fast phase
    await clock.advance(1_000);
    total += 14;
    expect(window.record(clock.monotonic(), total)).toBeCloseTo((9 * 100 + 14) / 10, 9);
    for (let s = 0; s < 9; s++) {
      await clock.advance(1_000);
      total += 14;
      window.record(clock.monotonic(), total);
    }
    expect(window.rate()).toBeCloseTo(14, 9); // 10 s of the slow phase: the fast one is gone
    // nothing done for 10 s: the recent rate falls to 0
    for (let s = 0; s < 10; s++) {
      await clock.advance(1_000);
      window.record(clock.monotonic(), total);
    }
    expect(window.rate()).toBe(0);
  });

  it('covers the time since the previous read when reads are further apart than the window', () => {
    const window = new RateWindow(10_000);
    window.record(0, 0);
    window.record(60_000, 600); // one scrape a minute
    expect(window.rate()).toBe(10);
    expect(window.record(120_000, 720)).toBe(2);
  });

  it('keeps a bounded number of samples however often it is read', () => {
    const window = new RateWindow(10_000);
    for (let at = 0; at <= 60_000; at += 7) window.record(at, at * 3);
    expect(window.size).toBeLessThanOrEqual(22);
    expect(window.rate()).toBeCloseTo(3_000, 6);
  });

  it('starts afresh when the total goes down or time goes back', () => {
    const window = new RateWindow(1_000);
    window.record(0, 0);
    window.record(1_000, 500);
    expect(window.record(2_000, 10)).toBe(0); // a new counter: one sample, no span
    expect(window.record(3_000, 30)).toBe(20);
    expect(window.record(2_500, 40)).toBe(0);
  });

  it('reads exactly a constant rate whatever the read schedule (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 1, maxLength: 200 }),
        (perSecond, gaps) => {
          const window = new RateWindow(10_000);
          let at = 0;
          window.record(at, 0);
          for (const gap of gaps) {
            at += gap;
            const rate = window.record(at, (perSecond * at) / 1000);
            expect(rate).toBeCloseTo(perSecond, 6);
          }
          expect(window.size).toBeLessThanOrEqual(22);
        },
      ),
    );
  });

  it('refuses a window that is not a positive duration', () => {
    expect(() => new RateWindow(0)).toThrow(ConfigError);
    expect(() => new RateWindow(Number.NaN)).toThrow(/RateWindow.windowMs must be a positive number of milliseconds, got NaN/);
  });
});
