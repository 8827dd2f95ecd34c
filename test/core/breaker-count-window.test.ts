import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FAILED,
  SLOW,
  clearCountWindow,
  countWindowOutcomes,
  createCountWindow,
  recordInCountWindow,
  type CountWindow,
} from '../../src/core/breaker-count-window.js';
import { createWindows, recordCall, resetWindows, tripOptions, windowStats } from '../../src/core/breaker-windows.js';

/** Outcome bits of a letter: s ok, f failed, S ok and slow, F failed and slow. */
const bits = (c: string): number => (c === 'f' || c === 'F' ? FAILED : 0) | (c === 'S' || c === 'F' ? SLOW : 0);

describe('count window', () => {
  it('evicts the oldest call first, wrapping around the ring', () => {
    const w = createCountWindow(3);
    for (const c of 'fsS') recordInCountWindow(w, bits(c));
    expect(countWindowOutcomes(w)).toBe('102');
    recordInCountWindow(w, bits('F'));
    expect(countWindowOutcomes(w)).toBe('023');
    expect(w).toMatchObject({ calls: 3, failures: 1, slow: 2 });
    for (const c of 'ssff') recordInCountWindow(w, bits(c));
    expect(countWindowOutcomes(w)).toBe('011');
    expect(w).toMatchObject({ calls: 3, failures: 2, slow: 0 });
  });

  it('with size 1, holds only the last call', () => {
    const w = createCountWindow(1);
    recordInCountWindow(w, bits('F'));
    recordInCountWindow(w, bits('s'));
    expect(w).toMatchObject({ calls: 1, failures: 0, slow: 0 });
    expect(countWindowOutcomes(w)).toBe('0');
  });

  it('forgets everything on clear and fills up again from the start', () => {
    const w = createCountWindow(2);
    for (const c of 'fFf') recordInCountWindow(w, bits(c));
    clearCountWindow(w);
    expect(w).toMatchObject({ calls: 0, failures: 0, slow: 0, next: 0 });
    expect(countWindowOutcomes(w)).toBe('');
    recordInCountWindow(w, bits('S'));
    expect(countWindowOutcomes(w)).toBe('2');
  });

  it('reports what a naive array of the last size calls holds, for any sequence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.oneof(fc.constantFrom('s', 'f', 'S', 'F'), fc.constant('reset')), { maxLength: 100 }),
        (size, steps) => {
          const w = createWindows(tripOptions('breaker', { failureRate: 0.5, slowCallMs: 100, window: { kind: 'count', size } }), 0);
          let model: string[] = [];
          for (const step of steps) {
            if (step === 'reset') {
              resetWindows(w, 0);
              model = [];
            } else {
              recordCall(w, { ok: step === 's' || step === 'S', durationMs: step === 'S' || step === 'F' ? 101 : 100, now: 0 });
              model = [...model, step].slice(-size);
            }
            const calls = model.length;
            const failures = model.filter((c) => c === 'f' || c === 'F').length;
            const slow = model.filter((c) => c === 'S' || c === 'F').length;
            expect(windowStats(w, 0)).toMatchObject({
              calls,
              failures,
              slow,
              failureRate: calls > 0 ? failures / calls : 0,
              slowRate: calls > 0 ? slow / calls : 0,
            });
            expect(countWindowOutcomes(w.window as CountWindow)).toBe(model.map((c) => String(bits(c))).join(''));
          }
        },
      ),
    );
  });
});
