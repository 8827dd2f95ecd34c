import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createWindows,
  recordCall,
  resetWindows,
  tripOptions,
  windowStats,
  type BreakerWindows,
  type TripReason,
  type WindowStats,
} from '../../src/core/breaker-windows.js';
import { expectConfigError } from '../helpers/config-error.js';

const SLOW_MS = 100;

/** Windows for these trip options (slow calls are those over 100 ms), created at time 0. */
function windows(options: Record<string, unknown>, now = 0): BreakerWindows {
  return createWindows(tripOptions('breaker', { slowCallMs: SLOW_MS, ...options }), now);
}

/** Records one call per letter, all at `now`: s ok, f failed, S ok and slow, F failed and slow; returns each answer. */
function play(w: BreakerWindows, calls: string, now = 0): Array<TripReason | undefined> {
  return [...calls].map((c) => recordCall(w, { ok: c === 's' || c === 'S', durationMs: c === 'S' || c === 'F' ? SLOW_MS + 1 : 1, now }));
}

/** The answer to the last call of `calls`, after the earlier ones. */
const last = (w: BreakerWindows, calls: string): TripReason | undefined => play(w, calls).at(-1);

/** Index of the first call that trips, -1 if none. */
const firstTrip = (w: BreakerWindows, calls: string): number => play(w, calls).findIndex((r) => r !== undefined);

describe('consecutive failures', () => {
  it('trips on the n-th failure in a row, not the one before', () => {
    expect(play(windows({ consecutiveFailures: 3 }), 'fff')).toEqual([undefined, undefined, 'consecutive']);
  });

  it('starts the run again after a success', () => {
    const w = windows({ consecutiveFailures: 3 });
    expect(play(w, 'ffsff')).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(last(w, 'f')).toBe('consecutive');
  });

  it('trips on the first failure with consecutiveFailures 1, ignoring minimumCalls', () => {
    expect(play(windows({ consecutiveFailures: 1, minimumCalls: 50 }), 'sf')).toEqual([undefined, 'consecutive']);
  });
});

describe('failure rate over a count window', () => {
  const options = { failureRate: 0.5, window: { kind: 'count', size: 10 }, minimumCalls: 10 };

  it('does not trip just below the rate: 4 failures in 10', () => {
    expect(firstTrip(windows(options), 'ffffssssss')).toBe(-1);
  });

  it('trips at the rate, on the call that reaches it: 5 failures in 10', () => {
    expect(firstTrip(windows(options), 'ffffsssssf')).toBe(9);
  });

  it('trips at decimal rates whose products would round up: 3 failures in 30 at 10 %', () => {
    const w = windows({ failureRate: 0.1, window: { kind: 'count', size: 30 }, minimumCalls: 30 });
    expect(firstTrip(w, `${'s'.repeat(27)}fff`)).toBe(29);
    expect(firstTrip(windows({ failureRate: 0.1, window: { kind: 'count', size: 30 }, minimumCalls: 30 }), `${'s'.repeat(28)}ff`)).toBe(-1);
  });

  it('trips on a success when the rate is still reached once minimumCalls is met, as resilience4j', () => {
    expect(play(windows(options), 'fffffffffs').at(-1)).toBe('failureRate');
  });

  it('waits for minimumCalls calls in the window, even when all fail', () => {
    const w = windows({ failureRate: 0.5, minimumCalls: 4 });
    expect(play(w, 'ffff')).toEqual([undefined, undefined, undefined, 'failureRate']);
  });

  it('looks only at the last size calls', () => {
    const w = windows({ failureRate: 0.5, window: { kind: 'count', size: 4 }, minimumCalls: 4 });
    expect(firstTrip(w, 'sssf')).toBe(-1);
    // The oldest success leaves as the 5th call comes: 2 failures of the last 4 (of all 5 it would be 40 %).
    expect(play(w, 'f')).toEqual(['failureRate']);
    expect(windowStats(w, 0)).toMatchObject({ calls: 4, failures: 2 });
  });
});

describe('failure rate over a time window', () => {
  const options = { failureRate: 0.5, minimumCalls: 4, window: { kind: 'time', ms: 1_000, buckets: 10 } };

  it('trips at the rate among the calls of the window, not just below it', () => {
    const w = windows(options);
    expect(play(w, 'fsss', 0)).toEqual([undefined, undefined, undefined, undefined]);
    expect(play(w, 'f', 500)).toEqual([undefined]);
    expect(play(w, 'f', 999)).toEqual(['failureRate']);
  });

  it('forgets the calls of buckets that left the window', () => {
    const w = windows(options);
    play(w, 'ff', 0);
    play(w, 'ss', 100);
    // At 1000 the bucket [0, 100) leaves: 1 failure of 3 calls instead of 3 of 5.
    expect(recordCall(w, { ok: false, durationMs: 1, now: 1_000 })).toBeUndefined();
    expect(windowStats(w, 1_000)).toMatchObject({ calls: 3, failures: 1 });
  });
});

describe('slow-call rate', () => {
  it('counts a call as slow only above slowCallMs', () => {
    const w = windows({ consecutiveFailures: 99 });
    recordCall(w, { ok: true, durationMs: SLOW_MS, now: 0 });
    expect(windowStats(w, 0).slow).toBe(0);
    recordCall(w, { ok: true, durationMs: SLOW_MS + 0.001, now: 0 });
    expect(windowStats(w, 0).slow).toBe(1);
  });

  it('counts slow failures as both slow and failed, as resilience4j', () => {
    const w = windows({ consecutiveFailures: 99 });
    play(w, 'F');
    expect(windowStats(w, 0)).toMatchObject({ calls: 1, failures: 1, slow: 1 });
  });

  it('does not trip just below the rate, trips at it, with minimumCalls', () => {
    const options = { slowCallRate: 0.5, minimumCalls: 4, window: { kind: 'count', size: 4 } };
    expect(firstTrip(windows(options), 'Ssss')).toBe(-1);
    expect(play(windows(options), 'SssS')).toEqual([undefined, undefined, undefined, 'slowCallRate']);
    expect(play(windows(options), 'SSS')).toEqual([undefined, undefined, undefined]);
  });

  it('uses a time window when given one', () => {
    const w = windows({ slowCallRate: 1, minimumCalls: 2, window: { kind: 'time', ms: 100, buckets: 1 } });
    expect(play(w, 'S', 0)).toEqual([undefined]);
    expect(play(w, 'S', 100)).toEqual([undefined]);
    expect(play(w, 'S', 199)).toEqual(['slowCallRate']);
  });

  it('never counts slow calls when slowCallMs is not set', () => {
    const w = createWindows(tripOptions('breaker', { consecutiveFailures: 5 }), 0);
    recordCall(w, { ok: true, durationMs: 1e9, now: 0 });
    expect(windowStats(w, 0).slow).toBe(0);
  });
});

describe('EMA of the failure rate', () => {
  it('follows λ ← α·f + (1 − α)·λ from 0', () => {
    const alpha = 0.1;
    const w = windows({ emaAlpha: alpha, emaThreshold: 1 });
    let expected = 0;
    for (const c of 'ffsfffssfsssffff') {
      play(w, c);
      expected = alpha * (c === 'f' ? 1 : 0) + (1 - alpha) * expected;
      expect(windowStats(w, 0).ema).toBe(expected);
    }
    const run = windows({ emaAlpha: alpha, emaThreshold: 1 });
    play(run, 'ffffffff');
    expect(windowStats(run, 0).ema).toBeCloseTo(1 - 0.9 ** 8, 12);
  });

  it('does not trip just below the threshold, trips at it', () => {
    // α 0.5: λ is 0.5 after one failure, 0.75 after two (exact in binary).
    expect(play(windows({ emaAlpha: 0.5, emaThreshold: 0.75, minimumCalls: 1 }), 'ff')).toEqual([undefined, 'ema']);
    expect(play(windows({ emaAlpha: 0.5, emaThreshold: 0.75, minimumCalls: 1 }), 'fsff')).toEqual([undefined, undefined, undefined, 'ema']);
  });

  it('waits for minimumCalls calls since the last reset', () => {
    expect(play(windows({ emaAlpha: 1, emaThreshold: 1, minimumCalls: 3 }), 'fff')).toEqual([undefined, undefined, 'ema']);
  });
});

describe('conditions combined', () => {
  const options = { consecutiveFailures: 3, failureRate: 0.5, minimumCalls: 4, window: { kind: 'count', size: 4 } };

  it('trips on whichever condition holds first', () => {
    expect(play(windows(options), 'fff')).toEqual([undefined, undefined, 'consecutive']);
    expect(play(windows(options), 'sfsf')).toEqual([undefined, undefined, undefined, 'failureRate']);
  });

  it('names consecutive before failureRate, slowCallRate and ema when several hold', () => {
    const all = { ...options, slowCallRate: 0.5, emaAlpha: 1, emaThreshold: 1 };
    expect(last(windows(all), 'FFFF')).toBe('consecutive');
    expect(last(windows(all), 'FFsF')).toBe('failureRate');
    expect(last(windows(all), 'SSsF')).toBe('slowCallRate');
    expect(last(windows({ ...all, failureRate: 1 }), 'FFsF')).toBe('slowCallRate');
    expect(last(windows({ emaAlpha: 1, emaThreshold: 1, slowCallRate: 1, minimumCalls: 1 }), 'f')).toBe('ema');
  });
});

describe('resetWindows', () => {
  it('forgets the window, the run and the EMA, and counts minimumCalls again', () => {
    const w = windows({ consecutiveFailures: 3, failureRate: 0.5, emaThreshold: 0.9, minimumCalls: 2 });
    expect(last(w, 'ff')).toBe('failureRate');
    resetWindows(w, 0);
    expect(windowStats(w, 0)).toEqual(zeroStats);
    expect(play(w, 'ff')).toEqual([undefined, 'failureRate']);
  });

  it('moves a time window to now', () => {
    const w = windows({ failureRate: 0.5, minimumCalls: 1, window: { kind: 'time', ms: 1_000, buckets: 10 } });
    play(w, 'f', 0);
    resetWindows(w, 5_000);
    expect(play(w, 's', 5_000)).toEqual([undefined]);
    expect(windowStats(w, 5_999)).toMatchObject({ calls: 1, failures: 0 });
    expect(windowStats(w, 6_000).calls).toBe(0);
  });

  it('refuses a non-finite now', () => {
    expectConfigError(() => resetWindows(windows({ consecutiveFailures: 1 }), Number.NaN), 'now', Number.NaN, 'NaN');
    expectConfigError(() => windows({ consecutiveFailures: 1 }, Infinity), 'now', Infinity, 'Infinity');
  });
});

const zeroStats: WindowStats = { calls: 0, failures: 0, slow: 0, failureRate: 0, slowRate: 0, consecutiveFailures: 0, ema: 0 };

describe('windowStats', () => {
  it('reports zero rates, not NaN, for an empty window', () => {
    expect(windowStats(windows({ failureRate: 0.5 }), 0)).toEqual(zeroStats);
  });

  it('reports counts, rates, the run of failures and the EMA', () => {
    const w = windows({ consecutiveFailures: 9, emaAlpha: 0.5 });
    play(w, 'SfFf');
    expect(windowStats(w, 0)).toEqual({
      calls: 4,
      failures: 3,
      slow: 2,
      failureRate: 0.75,
      slowRate: 0.5,
      consecutiveFailures: 3,
      ema: 0.875,
    });
  });
});

describe('properties', () => {
  const call = fc.record({
    ok: fc.boolean(),
    durationMs: fc.oneof(fc.double(), fc.integer({ min: 0, max: 300 })),
    dt: fc.oneof(fc.integer({ min: -50, max: 500 }), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e300)),
  });
  const options = fc.record(
    {
      consecutiveFailures: fc.integer({ min: 1, max: 10 }),
      failureRate: fc.double({ min: 0.01, max: 1, noNaN: true }),
      slowCallRate: fc.double({ min: 0.01, max: 1, noNaN: true }),
      emaAlpha: fc.double({ min: 0.01, max: 1, noNaN: true }),
      emaThreshold: fc.double({ min: 0.01, max: 1, noNaN: true }),
      minimumCalls: fc.integer({ min: 1, max: 8 }),
      window: fc.oneof(
        fc.record({ kind: fc.constant('count' as const), size: fc.integer({ min: 8, max: 20 }) }),
        fc.record({ kind: fc.constant('time' as const), ms: fc.constantFrom(10, 100, 1_000), buckets: fc.constantFrom(1, 2, 5, 10) }),
      ),
    },
    { requiredKeys: ['failureRate'] },
  );

  it('never trips on a rate before minimumCalls calls (in the window; for the EMA since the reset)', () => {
    fc.assert(
      fc.property(options, fc.array(call, { maxLength: 60 }), (opts, calls) => {
        const w = windows(opts);
        let now = 0;
        for (const { ok, durationMs, dt } of calls) {
          if (Number.isFinite(now + dt)) now += dt;
          const reason = recordCall(w, { ok, durationMs, now });
          if (reason === 'failureRate' || reason === 'slowCallRate') expect(w.window.calls).toBeGreaterThanOrEqual(w.options.minimumCalls);
          if (reason === 'ema') expect(w.emaCalls).toBeGreaterThanOrEqual(w.options.minimumCalls);
        }
      }),
    );
  });

  it('reports only finite stats, rates in [0, 1], for any sequence of calls, clock readings and resets', () => {
    fc.assert(
      fc.property(options, fc.array(fc.oneof(call, fc.constant('reset' as const)), { maxLength: 60 }), (opts, steps) => {
        const w = windows(opts);
        let now = 0;
        for (const step of steps) {
          if (step === 'reset') resetWindows(w, now);
          else {
            // The raw reading, NaN and Infinity included, goes to recordCall and windowStats.
            const reading = now + step.dt;
            if (Number.isFinite(reading)) now = reading;
            recordCall(w, { ok: step.ok, durationMs: step.durationMs, now: reading });
            for (const value of Object.values(windowStats(w, reading))) expect(Number.isFinite(value)).toBe(true);
          }
          const stats = windowStats(w, now);
          for (const value of Object.values(stats)) expect(Number.isFinite(value)).toBe(true);
          for (const rate of [stats.failureRate, stats.slowRate, stats.ema]) expect(rate >= 0 && rate <= 1).toBe(true);
        }
      }),
    );
  });
});
