import { describe, expect, it } from 'vitest';
import { leastSquaresSlope, resourcesAbove, slopePerMinute, varyingResources, type SoakSample } from '../../bench/soak-stats.js';
import { trackTimers } from '../../bench/soak-timers.js';

function sample(t: number, heapUsed: number, resources: Record<string, number> = {}, timers = 0): SoakSample {
  return { t, heapUsed, rss: heapUsed * 4, external: 0, arrayBuffers: 0, events: t * 1000, storeBytes: 0, resources, timers };
}

describe('soak arithmetic', () => {
  it('fits the least-squares slope of a line exactly, and of noise around it closely', () => {
    expect(leastSquaresSlope([0, 1, 2, 3], [5, 7, 9, 11])).toBe(2);
    expect(leastSquaresSlope([0, 1, 2, 3, 4, 5], [1, 3, 2, 4, 3, 5])).toBeCloseTo(11 / 17.5, 12);
    expect(leastSquaresSlope([1], [1])).toBeNaN();
    expect(leastSquaresSlope([2, 2], [1, 3])).toBeNaN();
  });

  it('gives slopes per minute from samples taken in seconds', () => {
    const samples = [0, 10, 20, 30, 40, 50, 60].map((t) => sample(t, 1_000_000 + t * 100));
    expect(slopePerMinute(samples, 'heapUsed')).toBeCloseTo(6_000, 6);
    expect(slopePerMinute(samples, 'rss')).toBeCloseTo(24_000, 6);
  });

  it('calls handles constant when only immediates and requests in flight come and go', () => {
    const samples = [
      sample(0, 1, { TCPServerWrap: 1, TCPSocketWrap: 2 }),
      sample(10, 1, { TCPServerWrap: 1, TCPSocketWrap: 2, Immediate: 1, FSReqCallback: 2 }),
    ];
    expect(varyingResources(samples)).toEqual({});
    expect(varyingResources([...samples, sample(20, 1, { TCPServerWrap: 1, TCPSocketWrap: 3 }), sample(30, 1, { TCPServerWrap: 1, TCPSocketWrap: 2, Timeout: 1 })])).toEqual({
      TCPSocketWrap: [2, 3],
      Timeout: [0, 1],
    });
    expect(resourcesAbove({ PipeWrap: 1 }, { PipeWrap: 1, Timeout: 2 })).toEqual({ Timeout: 2 });
  });
});

describe('the soak timer tracker', () => {
  it('counts unref’d timers until they fire or are cleared', async () => {
    const saved = { setTimeout, setInterval, clearTimeout, clearInterval };
    try {
      const timers = trackTimers();
      const once = setTimeout(() => {}, 1).unref();
      const every = setInterval(() => {}, 60_000).unref();
      const cleared = setTimeout(() => {}, 60_000);
      expect(timers.live()).toBe(3);
      clearTimeout(cleared);
      expect(timers.live()).toBe(2);
      await new Promise((resolve) => saved.setTimeout(resolve, 20));
      expect(timers.live()).toBe(1);
      expect(timers.sites()[0]).toMatch(/soak-stats\.test\.ts/);
      clearInterval(every);
      expect(timers.live()).toBe(0);
      void once;
    } finally {
      Object.assign(globalThis, saved);
    }
  });
});
