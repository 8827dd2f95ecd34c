import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWindowsSnapshot, type WindowsSnapshot } from '../../src/core/breaker-windows-snapshot.js';
import {
  createWindows,
  recordCall,
  restoreWindows,
  snapshotWindows,
  tripOptions,
  windowStats,
  type BreakerWindows,
  type TripReason,
  type WindowStats,
} from '../../src/core/breaker-windows.js';
import { expectConfigError } from '../helpers/config-error.js';

const SLOW_MS = 100;
const zeroStats: WindowStats = { calls: 0, failures: 0, slow: 0, failureRate: 0, slowRate: 0, consecutiveFailures: 0, ema: 0 };

/** Windows for these trip options (slow calls are those over 100 ms), created at `now`. */
function windows(options: Record<string, unknown>, now = 0): BreakerWindows {
  return createWindows(tripOptions('breaker', { slowCallMs: SLOW_MS, ...options }), now);
}

/** Records one call per letter, all at `now`: s ok, f failed, S ok and slow, F failed and slow; returns each answer. */
function play(w: BreakerWindows, calls: string, now = 0): Array<TripReason | undefined> {
  return [...calls].map((c) => recordCall(w, { ok: c === 's' || c === 'S', durationMs: c === 'S' || c === 'F' ? SLOW_MS + 1 : 1, now }));
}

const F = 'initialState.windows';

const count: WindowsSnapshot = { version: 1, consecutiveFailures: 2, ema: 0.25, emaCalls: 7, window: { kind: 'count', size: 4, outcomes: '0312' } };
const time: WindowsSnapshot = {
  version: 1,
  consecutiveFailures: 0,
  ema: 0,
  emaCalls: 0,
  window: { kind: 'time', ms: 300, buckets: 3, headEpoch: -4, calls: [2, 0, 1], failures: [1, 0, 1], slow: [2, 0, 0] },
};

/** `snapshot` with `window` fields replaced. */
const withWindow = (snapshot: WindowsSnapshot, fields: Record<string, unknown>): unknown => ({ ...snapshot, window: { ...snapshot.window, ...fields } });

describe('parseWindowsSnapshot', () => {
  it('accepts what snapshotWindows writes, count and time', () => {
    expect(parseWindowsSnapshot(F, JSON.parse(JSON.stringify(count)))).toEqual(count);
    expect(parseWindowsSnapshot(F, JSON.parse(JSON.stringify(time)))).toEqual(time);
    expect(parseWindowsSnapshot(F, { ...count, ema: 1, window: { kind: 'count', size: 1, outcomes: '' } }).ema).toBe(1);
  });

  it('names the field and the value of each flaw', () => {
    expectConfigError(() => parseWindowsSnapshot(F, 'x'), F, 'x', '"x"');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, version: 2 }), `${F}.version`, 2, '2');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, extra: 1 }), `${F}.extra`, 1, '1');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, consecutiveFailures: -1 }), `${F}.consecutiveFailures`, -1, '-1');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, ema: -0.1 }), `${F}.ema`, -0.1, '-0.1');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, ema: null }), `${F}.ema`, null, 'null');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, emaCalls: 0.5 }), `${F}.emaCalls`, 0.5, '0.5');
    expectConfigError(() => parseWindowsSnapshot(F, { ...count, window: null }), `${F}.window`, null, 'null');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(count, { kind: 'ring' })), `${F}.window.kind`, 'ring', '"ring"');
  });

  it('rejects count outcomes that are not digits 0-3 or outnumber the size', () => {
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(count, { outcomes: '0142' })), `${F}.window.outcomes`, '0142', '"0142"');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(count, { outcomes: '00000' })), `${F}.window.outcomes`, '00000', '"00000"');
    const list = [0, 1];
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(count, { outcomes: list })), `${F}.window.outcomes`, list, 'array(2)');
  });

  it('rejects time windows whose counts are missing, negative, fractional or inconsistent', () => {
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { buckets: 7 })), `${F}.window.buckets`, 7, '7');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { headEpoch: 1.5 })), `${F}.window.headEpoch`, 1.5, '1.5');
    const short = [1, 1];
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { calls: short })), `${F}.window.calls`, short, 'array(2)');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { slow: [0, -1, 0] })), `${F}.window.slow[1]`, -1, '-1');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { failures: [3, 0, 0] })), `${F}.window.failures[0]`, 3, '3');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { slow: [0, 0, 2] })), `${F}.window.slow[2]`, 2, '2');
    expectConfigError(() => parseWindowsSnapshot(F, withWindow(time, { size: 3 })), `${F}.window.size`, 3, '3');
  });
});

describe('snapshotWindows / restoreWindows', () => {
  const viaJson = (w: BreakerWindows): unknown => JSON.parse(JSON.stringify(snapshotWindows(w)));

  it('writes plain JSON: the count window as digits, oldest first', () => {
    const w = windows({ consecutiveFailures: 9, emaAlpha: 0.5, window: { kind: 'count', size: 3 } });
    play(w, 'fsSF');
    expect(viaJson(w)).toEqual({
      version: 1,
      consecutiveFailures: 1,
      ema: 0.5625,
      emaCalls: 4,
      window: { kind: 'count', size: 3, outcomes: '023' },
    });
  });

  it('writes the time window as bucket counts, oldest first', () => {
    const w = windows({ failureRate: 0.5, window: { kind: 'time', ms: 300, buckets: 3 } }, 1_000);
    play(w, 'fS', 1_050);
    play(w, 's', 1_250);
    expect(viaJson(w)).toMatchObject({
      window: { kind: 'time', ms: 300, buckets: 3, headEpoch: 12, calls: [2, 0, 1], failures: [1, 0, 0], slow: [1, 0, 0] },
    });
  });

  it('restores windows that make the same decisions as the originals, through JSON', () => {
    const count = { consecutiveFailures: 4, failureRate: 0.5, slowCallRate: 0.5, emaThreshold: 0.4, minimumCalls: 6, window: { kind: 'count', size: 8 } };
    const time = { ...count, window: { kind: 'time', ms: 1_000, buckets: 10 } };
    fc.assert(
      fc.property(
        fc.constantFrom(count, time),
        fc.array(fc.tuple(fc.constantFrom('s', 'f', 'S', 'F'), fc.integer({ min: 0, max: 400 })), { maxLength: 40 }),
        fc.array(fc.tuple(fc.constantFrom('s', 'f', 'S', 'F'), fc.integer({ min: 0, max: 400 })), { maxLength: 40 }),
        (options, before, after) => {
          const original = windows(options);
          let now = 0;
          for (const [c, dt] of before) play(original, c, (now += dt));
          const restored = restoreWindows(original.options, viaJson(original), now);
          expect(windowStats(restored, now)).toEqual(windowStats(original, now));
          for (const [c, dt] of after) {
            now += dt;
            expect(play(restored, c, now)).toEqual(play(original, c, now));
            expect(windowStats(restored, now)).toEqual(windowStats(original, now));
          }
        },
      ),
    );
  });

  it('keeps the newest calls when the count window shrinks or grows', () => {
    const w = windows({ consecutiveFailures: 9, window: { kind: 'count', size: 4 } });
    play(w, 'ffss');
    const smaller = restoreWindows(tripOptions('b', { failureRate: 0.5, window: { kind: 'count', size: 2 } }), viaJson(w), 0);
    expect(snapshotWindows(smaller).window).toEqual({ kind: 'count', size: 2, outcomes: '00' });
    const larger = restoreWindows(tripOptions('b', { failureRate: 0.5, window: { kind: 'count', size: 9 } }), viaJson(w), 0);
    expect(snapshotWindows(larger).window).toEqual({ kind: 'count', size: 9, outcomes: '1100' });
  });

  it('keeps time buckets of the same length, starts empty after any other window change, keeps the run and the EMA', () => {
    const w = windows({ consecutiveFailures: 9, window: { kind: 'time', ms: 1_000, buckets: 10 } });
    play(w, 'ff', 0);
    play(w, 'sf', 500);
    // 3 buckets of 100 ms: only the newest three (epochs 3 to 5) are kept.
    const fewer = restoreWindows(tripOptions('b', { failureRate: 0.5, window: { kind: 'time', ms: 300, buckets: 3 } }), viaJson(w), 500);
    expect(windowStats(fewer, 500)).toMatchObject({ calls: 2, failures: 1, consecutiveFailures: 1 });
    expect(windowStats(fewer, 799).calls).toBe(2);
    expect(windowStats(fewer, 800).calls).toBe(0);
    const more = restoreWindows(tripOptions('b', { failureRate: 0.5, window: { kind: 'time', ms: 2_000, buckets: 20 } }), viaJson(w), 500);
    expect(windowStats(more, 500)).toMatchObject({ calls: 4, failures: 3 });
    expect(windowStats(more, 1_999).calls).toBe(4);
    expect(windowStats(more, 2_000).calls).toBe(2);
    for (const other of [{ kind: 'time', ms: 2_000, buckets: 10 }, { kind: 'count', size: 10 }]) {
      const restored = restoreWindows(tripOptions('b', { failureRate: 0.5, window: other }), viaJson(w), 500);
      expect(windowStats(restored, 500)).toEqual({ ...zeroStats, consecutiveFailures: 1, ema: w.ema });
    }
  });

  it('lets buckets expire by the time elapsed since the snapshot, on the same clock', () => {
    const w = windows({ failureRate: 0.5, window: { kind: 'time', ms: 1_000, buckets: 10 } });
    play(w, 'f', 0);
    play(w, 'f', 900);
    const restored = restoreWindows(w.options, viaJson(w), 1_050);
    expect(windowStats(restored, 1_050)).toMatchObject({ calls: 1, failures: 1 });
  });

  it('takes a snapshot from a clock that is ahead as ending now', () => {
    const w = windows({ failureRate: 0.5, window: { kind: 'time', ms: 1_000, buckets: 10 } }, 50_000);
    play(w, 'f', 50_000);
    play(w, 's', 50_100);
    const restored = restoreWindows(w.options, viaJson(w), 20);
    expect(windowStats(restored, 20)).toMatchObject({ calls: 2, failures: 1 });
    expect(windowStats(restored, 899).calls).toBe(2);
    expect(windowStats(restored, 900).calls).toBe(1);
    expect(windowStats(restored, 1_000).calls).toBe(0);
  });

  it('names the field of a malformed snapshot', () => {
    const w = windows({ consecutiveFailures: 3 });
    expectConfigError(() => restoreWindows(w.options, { ...snapshotWindows(w), ema: 2 }, 0, 'initialState.windows'), 'initialState.windows.ema', 2, '2');
  });
});
