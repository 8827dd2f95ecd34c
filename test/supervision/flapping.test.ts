import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAP_OPTIONS, MAX_FLAP_WINDOW, detectFlapping, flapOptions, type FlapOptions } from '../../supervisors/flapping.js';
import { expectConfigError } from '../helpers/config-error.js';

const FIELD = 'supervision.flapping';
const detect = (history: string, options: Partial<FlapOptions> = {}) =>
  detectFlapping(history.split(' ').filter((id) => id !== ''), { ...DEFAULT_FLAP_OPTIONS, ...options });

describe('DEFAULT_FLAP_OPTIONS', () => {
  it('flags 5 failures in a row, 2 repetitions of a cycle, over the last 32 failures', () => {
    expect(DEFAULT_FLAP_OPTIONS).toEqual({ runaway: 5, cycleRepeats: 2, window: 32 });
    expect(Object.isFrozen(DEFAULT_FLAP_OPTIONS)).toBe(true);
  });
});

describe('flapOptions', () => {
  it('fills in the defaults for undefined, an empty object and explicitly undefined fields', () => {
    expect(flapOptions(FIELD, undefined)).toEqual(DEFAULT_FLAP_OPTIONS);
    expect(flapOptions(FIELD, {})).toEqual(DEFAULT_FLAP_OPTIONS);
    expect(flapOptions(FIELD, { runaway: undefined })).toEqual(DEFAULT_FLAP_OPTIONS);
    expect(flapOptions(FIELD, undefined)).not.toBe(DEFAULT_FLAP_OPTIONS);
  });

  it('lays a partial object over the defaults', () => {
    expect(flapOptions(FIELD, { runaway: 3 })).toEqual({ runaway: 3, cycleRepeats: 2, window: 32 });
    expect(flapOptions(FIELD, { runaway: 8, cycleRepeats: 4, window: 12 })).toEqual({ runaway: 8, cycleRepeats: 4, window: 12 });
  });

  it('accepts the boundaries: runaway 2, cycleRepeats 2, the smallest window that holds both, and the largest window', () => {
    expect(flapOptions(FIELD, { runaway: 2, cycleRepeats: 2, window: 6 })).toEqual({ runaway: 2, cycleRepeats: 2, window: 6 });
    expect(flapOptions(FIELD, { runaway: 7, window: 7 })).toEqual({ runaway: 7, cycleRepeats: 2, window: 7 });
    expect(flapOptions(FIELD, { window: MAX_FLAP_WINDOW, runaway: MAX_FLAP_WINDOW, cycleRepeats: 341 })).toEqual({
      runaway: 1024,
      cycleRepeats: 341,
      window: 1024,
    });
  });

  it('rejects a non-object and an unknown key, naming the field and the value', () => {
    expectConfigError(() => flapOptions(FIELD, 'ABAB'), FIELD, 'ABAB', '"ABAB"');
    const error = expectConfigError(() => flapOptions(FIELD, { runAway: 3 }), `${FIELD}.runAway`, 3, '3');
    expect(error.message).toContain('known: runaway, cycleRepeats, window');
  });

  it.each([
    ['runaway', 1, '1', 'must be an integer in [2, 1024]'],
    ['runaway', 2.5, '2.5', 'must be an integer in [2, 1024]'],
    ['runaway', '5', '"5"', 'must be an integer in [2, 1024]'],
    ['cycleRepeats', 1, '1', 'must be an integer in [2, 341]'],
    ['cycleRepeats', Number.NaN, 'NaN', 'must be an integer in [2, 341]'],
    ['window', 0, '0', 'must be an integer in [1, 1024]'],
    ['window', 1025, '1025', 'must be an integer in [1, 1024]'],
    ['window', Number.POSITIVE_INFINITY, 'Infinity', 'must be an integer in [1, 1024]'],
  ] as const)('rejects %s = %s, naming supervision.flapping.%s and the value', (key, value, shown, expected) => {
    const error = expectConfigError(() => flapOptions(FIELD, { [key]: value }), `${FIELD}.${key}`, value, shown);
    expect(error.message).toBe(`${FIELD}.${key} ${expected}, got ${shown}`);
  });

  it('rejects a window too small for the patterns, saying how large it must be', () => {
    const error = expectConfigError(() => flapOptions(FIELD, { window: 5 }), `${FIELD}.window`, 5, '5');
    expect(error.message).toBe(`${FIELD}.window must be at least 6 so that RUNAWAY (runaway 5) and CYCLE (3 × cycleRepeats 2) fit in it, got 5`);
    expect(flapOptions(FIELD, { window: 6 }).window).toBe(6);
    expectConfigError(() => flapOptions(FIELD, { window: 9, runaway: 10 }), `${FIELD}.window`, 9, '9');
  });

  it('blames runaway or cycleRepeats, not the default window, when they alone outgrow it', () => {
    const runaway = expectConfigError(() => flapOptions(FIELD, { runaway: 33 }), `${FIELD}.runaway`, 33, '33');
    expect(runaway.message).toBe(`${FIELD}.runaway must be at most window (32), got 33`);
    const repeats = expectConfigError(() => flapOptions(FIELD, { cycleRepeats: 11 }), `${FIELD}.cycleRepeats`, 11, '11');
    expect(repeats.message).toBe(`${FIELD}.cycleRepeats must be at most window / 3 (10), got 11`);
    expect(flapOptions(FIELD, { cycleRepeats: 10 }).cycleRepeats).toBe(10);
  });
});

describe('detectFlapping', () => {
  it('reports RUNAWAY when the last `runaway` failures are the same child', () => {
    expect(detect('a a a a a')).toEqual({ pattern: 'RUNAWAY', children: ['a'] });
    expect(detect('b c a a a a a')).toEqual({ pattern: 'RUNAWAY', children: ['a'] });
    expect(detect('a a', { runaway: 2, window: 6 })).toEqual({ pattern: 'RUNAWAY', children: ['a'] });
  });

  it('does not report RUNAWAY one failure short, nor when the run is broken', () => {
    expect(detect('a a a a')).toBeUndefined();
    expect(detect('a a a b a a a a')).toBeUndefined();
    expect(detect('a a a a a b')).toBeUndefined();
  });

  it('reports ABAB when the last four failures alternate between two children, in order of appearance', () => {
    expect(detect('a b a b')).toEqual({ pattern: 'ABAB', children: ['a', 'b'] });
    expect(detect('c b a b a')).toEqual({ pattern: 'ABAB', children: ['b', 'a'] });
    expect(detect('x y z q w e r t y u i o p c d c d')).toEqual({ pattern: 'ABAB', children: ['c', 'd'] });
  });

  it('does not report ABAB for a b a c, a b b a, nor three alternations short of four', () => {
    expect(detect('a b a c')).toBeUndefined();
    expect(detect('a b b a')).toBeUndefined();
    expect(detect('a b a')).toBeUndefined();
  });

  it('reports CYCLE when a sequence of three or more children repeats cycleRepeats times', () => {
    expect(detect('a b c a b c')).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c'] });
    expect(detect('z z a b c a b c')).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c'] });
    expect(detect('a b c d a b c d')).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c', 'd'] });
    expect(detect('c a b c a b')).toEqual({ pattern: 'CYCLE', children: ['c', 'a', 'b'] });
  });

  it('accepts repeated children inside a cycle as long as it holds three distinct ones', () => {
    expect(detect('a b a c a b a c')).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'a', 'c'] });
  });

  it('reports the shortest repeated sequence', () => {
    expect(detect('a b c a b c a b c a b c')).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c'] });
    expect(detect('a b c a b c a b c', { cycleRepeats: 3 })).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c'] });
  });

  it('needs cycleRepeats repetitions: two are not enough when three are asked for', () => {
    expect(detect('a b c a b c', { cycleRepeats: 3 })).toBeUndefined();
    expect(detect('x a b c a b c', { cycleRepeats: 3 })).toBeUndefined();
  });

  it('does not report a CYCLE of fewer than three distinct children, nor a sequence that changed', () => {
    expect(detect('a a b a a b')).toBeUndefined();
    expect(detect('a b c a b d')).toBeUndefined();
    expect(detect('a b c b a c')).toBeUndefined();
    expect(detect('b c a b c')).toBeUndefined();
  });

  it('checks RUNAWAY before CYCLE and ABAB before CYCLE when both match', () => {
    // c b a a a a a, twice: a CYCLE of seven, but its last five failures are a runaway.
    expect(detect('c b a a a a a c b a a a a a')).toEqual({ pattern: 'RUNAWAY', children: ['a'] });
    // c a b a b, twice: a CYCLE of five, but its last four alternate.
    expect(detect('c a b a b c a b a b')).toEqual({ pattern: 'ABAB', children: ['a', 'b'] });
  });

  it('reports nothing for an empty or short history', () => {
    expect(detect('')).toBeUndefined();
    expect(detect('a')).toBeUndefined();
    expect(detect('a b c')).toBeUndefined();
  });

  it('only looks at the last `window` failures', () => {
    const history = 'a b c d e f a b c d e f';
    expect(detect(history, { window: 12 })).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(detect(history, { window: 11 })).toBeUndefined();
    expect(detect('a b c d a b c d', { window: 8 })).toEqual({ pattern: 'CYCLE', children: ['a', 'b', 'c', 'd'] });
    expect(detect('a b c d a b c d', { window: 7 })).toBeUndefined();
    expect(detect('a a a a a', { window: 5 })).toEqual({ pattern: 'RUNAWAY', children: ['a'] });
  });

  it('cuts off even a pattern longer than an unvalidated window', () => {
    expect(detect('a b a b', { window: 3 })).toBeUndefined();
    expect(detect('a a a a a', { window: 4 })).toBeUndefined();
    expect(detect('a a a a a', { window: 0 })).toBeUndefined();
  });

  it('does not change the history it is given', () => {
    const history = Object.freeze(['a', 'b', 'c', 'a', 'b', 'c']);
    const found = detectFlapping(history, DEFAULT_FLAP_OPTIONS);
    expect(history).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    found?.children.push('mutated');
    expect(history).toHaveLength(6);
  });

  const validOptions: fc.Arbitrary<FlapOptions> = fc
    .record({ runaway: fc.integer({ min: 2, max: 12 }), cycleRepeats: fc.integer({ min: 2, max: 5 }), slack: fc.integer({ min: 0, max: 20 }) })
    .map(({ runaway, cycleRepeats, slack }) => flapOptions(FIELD, { runaway, cycleRepeats, window: Math.max(runaway, 3 * cycleRepeats) + slack }));
  const ids = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 60 });

  it('always reports RUNAWAY for any history followed by `runaway` failures of one child', () => {
    fc.assert(
      fc.property(ids, fc.constantFrom('a', 'b', 'z'), validOptions, (history, id, options) => {
        const run = Array.from({ length: options.runaway }, () => id);
        expect(detectFlapping([...history, ...run], options)).toEqual({ pattern: 'RUNAWAY', children: [id] });
      }),
      { numRuns: 1_000 },
    );
  });

  it('ignores everything before the last `window` failures', () => {
    fc.assert(
      fc.property(ids, ids, validOptions, (older, recent, options) => {
        const tail = [...older, ...recent].slice(-options.window);
        expect(detectFlapping([...older, ...recent], options)).toEqual(detectFlapping(tail, options));
      }),
      { numRuns: 1_000 },
    );
  });

  it('reports only patterns that are really at the end of the history', () => {
    fc.assert(
      fc.property(ids, validOptions, (history, options) => {
        const found = detectFlapping(history, options);
        if (found === undefined) return;
        const { children } = found;
        const repeats = found.pattern === 'RUNAWAY' ? options.runaway : found.pattern === 'ABAB' ? 2 : options.cycleRepeats;
        const expectedTail = Array.from({ length: repeats }, () => children).flat();
        expect(history.slice(-expectedTail.length)).toEqual(expectedTail);
        expect(expectedTail.length).toBeLessThanOrEqual(options.window);
        if (found.pattern === 'RUNAWAY') expect(children).toHaveLength(1);
        if (found.pattern === 'ABAB') expect(new Set(children).size).toBe(2);
        if (found.pattern === 'CYCLE') expect(new Set(children).size).toBeGreaterThanOrEqual(3);
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds a CYCLE when a sequence of distinct children repeats cycleRepeats times within the window, and only then', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(['p', 'q', 'r', 's', 't'], { minLength: 3 }), validOptions, (sequence, options) => {
        const cycle = Array.from({ length: options.cycleRepeats }, () => sequence).flat();
        const found = detectFlapping(['z', ...cycle], options);
        if (cycle.length <= options.window) expect(found).toEqual({ pattern: 'CYCLE', children: sequence });
        else expect(found).toBeUndefined();
      }),
      { numRuns: 1_000 },
    );
  });
});
