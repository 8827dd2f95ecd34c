import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TimeWindow } from '../../src/core/breaker-time-window.js';
import { createWindows, recordCall, resetWindows, tripOptions, windowStats, type BreakerWindows } from '../../src/core/breaker-windows.js';

const SLOW_MS = 100;

/** Windows with a time window of `ms` in `buckets` buckets, created at `now`. */
function timeWindows(ms: number, buckets: number, now = 0): BreakerWindows {
  return createWindows(tripOptions('breaker', { failureRate: 0.5, slowCallMs: SLOW_MS, window: { kind: 'time', ms, buckets } }), now);
}

const fail = (w: BreakerWindows, now: number): unknown => recordCall(w, { ok: false, durationMs: 1, now });
const succeed = (w: BreakerWindows, now: number): unknown => recordCall(w, { ok: true, durationMs: 1, now });
const callsAt = (w: BreakerWindows, now: number): number => windowStats(w, now).calls;
const cleared = (w: BreakerWindows): number => (w.window as TimeWindow).cleared;

describe('time window expiry', () => {
  it('counts a call until its bucket is `buckets` buckets old: [0, 100) leaves at 1000 with 10 buckets of 100 ms', () => {
    const w = timeWindows(1_000, 10);
    fail(w, 0);
    fail(w, 99);
    succeed(w, 100);
    expect(callsAt(w, 999)).toBe(3);
    expect(callsAt(w, 1_000)).toBe(1);
    expect(callsAt(w, 1_099)).toBe(1);
    expect(callsAt(w, 1_100)).toBe(0);
  });

  it('advancing by exactly one bucket clears one bucket and drops only its calls', () => {
    const w = timeWindows(1_000, 10);
    for (let t = 0; t < 1_000; t += 100) fail(w, t);
    const before = cleared(w);
    expect(windowStats(w, 1_000)).toMatchObject({ calls: 9, failures: 9 });
    expect(cleared(w) - before).toBe(1);
  });

  it('advancing by a whole window clears every bucket once', () => {
    const w = timeWindows(1_000, 10);
    for (let t = 0; t < 1_000; t += 50) fail(w, t);
    const before = cleared(w);
    expect(callsAt(w, 1_950)).toBe(0);
    expect(cleared(w) - before).toBe(10);
  });

  it('advancing by 1000 windows (or 10^12) clears each bucket once, not once per elapsed bucket', () => {
    const w = timeWindows(1_000, 10);
    fail(w, 0);
    expect(callsAt(w, 1_000 * 1_000)).toBe(0);
    expect(cleared(w)).toBe(10);
    fail(w, 1_000 * 1_000);
    expect(callsAt(w, 1e15)).toBe(0);
    expect(cleared(w)).toBe(20);
    fail(w, 1e15);
    expect(windowStats(w, 1e15)).toMatchObject({ calls: 1, failures: 1 });
  });

  it('advancing by k < buckets buckets clears exactly k', () => {
    const w = timeWindows(1_000, 10);
    succeed(w, 0);
    callsAt(w, 350);
    expect(cleared(w)).toBe(3);
    callsAt(w, 399);
    expect(cleared(w)).toBe(3);
  });

  it('treats time going backwards, or a NaN reading, as no time passing: the call joins the newest bucket', () => {
    const w = timeWindows(1_000, 10);
    succeed(w, 500);
    fail(w, 10);
    fail(w, Number.NaN);
    expect(cleared(w)).toBe(5);
    expect(windowStats(w, 500)).toMatchObject({ calls: 3, failures: 2 });
    expect(callsAt(w, 1_499)).toBe(3);
    expect(callsAt(w, 1_500)).toBe(0);
  });

  it('treats an infinite reading as no time passing, so that it cannot strand the window in the future', () => {
    const w = timeWindows(1_000, 10);
    fail(w, Infinity);
    expect(callsAt(w, Infinity)).toBe(1);
    expect(callsAt(w, 999)).toBe(1);
    expect(callsAt(w, 1_000)).toBe(0);
  });

  it('works on negative clock readings', () => {
    const w = timeWindows(1_000, 10, -5_000);
    fail(w, -5_000);
    fail(w, -4_001);
    expect(callsAt(w, -4_001)).toBe(2);
    expect(callsAt(w, -4_000)).toBe(1);
  });

  it('with one bucket, forgets everything at each multiple of ms', () => {
    const w = timeWindows(1_000, 1);
    fail(w, 0);
    fail(w, 999);
    expect(callsAt(w, 999)).toBe(2);
    expect(callsAt(w, 1_000)).toBe(0);
  });
});

/** A call as the naive model keeps it: its bucket epoch and outcome. */
interface ModelCall {
  epoch: number;
  failed: boolean;
  slow: boolean;
}

describe('time window against a naive model', () => {
  it('counts exactly the calls whose bucket is among the newest `buckets` buckets', () => {
    const dt = fc.oneof(fc.integer({ min: -50, max: 150 }), fc.integer({ min: -300, max: 3_000 }));
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('call' as const), ok: fc.boolean(), durationMs: fc.integer({ min: 0, max: 200 }), dt }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('look' as const), dt }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), dt: fc.integer({ min: -300, max: 300 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('jump' as const), dt: fc.integer({ min: 0, max: 1e9 }) }) },
    );
    fc.assert(
      fc.property(
        fc.constantFrom([1_000, 10], [1_000, 1], [300, 3], [120, 8], [7, 7]),
        fc.integer({ min: -10_000, max: 10_000 }),
        fc.array(step, { maxLength: 120 }),
        ([ms, buckets], start, steps) => {
          const bucketMs = ms / buckets;
          const epochOf = (t: number): number => Math.floor(t / bucketMs);
          const w = timeWindows(ms, buckets, start);
          let model: ModelCall[] = [];
          // The newest epoch seen: a reading behind it counts as no time passing.
          let head = epochOf(start);
          let now = start;
          for (const s of steps) {
            now += s.dt;
            if (s.kind === 'reset') {
              resetWindows(w, now);
              model = [];
              head = epochOf(now);
              continue;
            }
            head = Math.max(head, epochOf(now));
            if (s.kind === 'call') {
              recordCall(w, { ok: s.ok, durationMs: s.durationMs, now });
              model.push({ epoch: head, failed: !s.ok, slow: s.durationMs > SLOW_MS });
            }
            const inWindow = model.filter((c) => head - c.epoch < buckets);
            const calls = inWindow.length;
            const failures = inWindow.filter((c) => c.failed).length;
            const slow = inWindow.filter((c) => c.slow).length;
            expect(windowStats(w, now)).toMatchObject({
              calls,
              failures,
              slow,
              failureRate: calls > 0 ? failures / calls : 0,
              slowRate: calls > 0 ? slow / calls : 0,
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
