import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay, backoffOptions, nextAttempt, type BackoffOptions } from '../../src/core/backoff.js';
import { expectConfigError } from '../helpers/config-error.js';

const MAX = Number.MAX_SAFE_INTEGER;
const FIELD = 'supervision.backoff';
const noJitter: BackoffOptions = { ...DEFAULT_BACKOFF, jitter: 0 };
const fixed = (r: number) => (): number => r;

describe('DEFAULT_BACKOFF', () => {
  it('starts at 100 ms, doubles up to 30 s, jitters 20 % and resets after a minute up', () => {
    expect(DEFAULT_BACKOFF).toEqual({ minMs: 100, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 60_000 });
  });

  it('is frozen, so that no caller can change the defaults of every other', () => {
    expect(Object.isFrozen(DEFAULT_BACKOFF)).toBe(true);
  });
});

describe('backoffOptions', () => {
  it('fills in the defaults for undefined, an empty object and explicitly undefined fields', () => {
    expect(backoffOptions(FIELD, undefined)).toEqual(DEFAULT_BACKOFF);
    expect(backoffOptions(FIELD, {})).toEqual(DEFAULT_BACKOFF);
    expect(backoffOptions(FIELD, { jitter: undefined, maxMs: undefined })).toEqual(DEFAULT_BACKOFF);
  });

  it('lays a partial object over the defaults', () => {
    expect(backoffOptions(FIELD, { minMs: 10, jitter: 0 })).toEqual({ ...DEFAULT_BACKOFF, minMs: 10, jitter: 0 });
    expect(backoffOptions(FIELD, { minMs: 1, maxMs: 2, factor: 3, jitter: 0.5, resetAfterMs: 4 })).toEqual({
      minMs: 1,
      maxMs: 2,
      factor: 3,
      jitter: 0.5,
      resetAfterMs: 4,
    });
  });

  it('returns a new object each time, never the frozen defaults', () => {
    const options = backoffOptions(FIELD, undefined);
    expect(options).not.toBe(DEFAULT_BACKOFF);
    expect(Object.isFrozen(options)).toBe(false);
    options.minMs = 1;
    expect(backoffOptions(FIELD, {}).minMs).toBe(100);
  });

  it('accepts every boundary: minMs 0, maxMs equal to minMs, factor 1, jitter 0 and 1, resetAfterMs 0', () => {
    expect(backoffOptions(FIELD, { minMs: 0, maxMs: 0 })).toMatchObject({ minMs: 0, maxMs: 0 });
    expect(backoffOptions(FIELD, { minMs: 500, maxMs: 500 })).toMatchObject({ minMs: 500, maxMs: 500 });
    expect(backoffOptions(FIELD, { factor: 1 }).factor).toBe(1);
    expect(backoffOptions(FIELD, { jitter: 0 }).jitter).toBe(0);
    expect(backoffOptions(FIELD, { jitter: 1 }).jitter).toBe(1);
    expect(backoffOptions(FIELD, { resetAfterMs: 0 }).resetAfterMs).toBe(0);
    expect(backoffOptions(FIELD, { minMs: 0.5, factor: 1.5 })).toMatchObject({ minMs: 0.5, factor: 1.5 });
  });

  it('rejects a non-object, naming the field and the value', () => {
    expectConfigError(() => backoffOptions(FIELD, 100), FIELD, 100, '100');
    expectConfigError(() => backoffOptions(FIELD, null), FIELD, null, 'null');
    const list = [100];
    expectConfigError(() => backoffOptions(FIELD, list), FIELD, list, 'array(1)');
  });

  it('rejects an unknown key such as a typo, listing the known ones', () => {
    const error = expectConfigError(() => backoffOptions(FIELD, { maxMS: 10 }), `${FIELD}.maxMS`, 10, '10');
    expect(error.message).toContain('known: minMs, maxMs, factor, jitter, resetAfterMs');
  });

  it.each([
    ['minMs', -1, '-1', 'must be a finite number >= 0'],
    ['minMs', Number.NaN, 'NaN', 'must be a finite number >= 0'],
    ['minMs', '100', '"100"', 'must be a finite number >= 0'],
    ['maxMs', Number.POSITIVE_INFINITY, 'Infinity', 'must be a finite number >= minMs (100)'],
    ['maxMs', 99, '99', 'must be a finite number >= minMs (100)'],
    ['factor', 0.5, '0.5', 'must be a finite number >= 1'],
    ['factor', Number.POSITIVE_INFINITY, 'Infinity', 'must be a finite number >= 1'],
    ['factor', null, 'null', 'must be a finite number >= 1'],
    ['jitter', -0.1, '-0.1', 'must be a finite number in [0, 1]'],
    ['jitter', 1.5, '1.5', 'must be a finite number in [0, 1]'],
    ['jitter', Number.NaN, 'NaN', 'must be a finite number in [0, 1]'],
    ['resetAfterMs', -5, '-5', 'must be a finite number >= 0'],
    ['resetAfterMs', Number.NEGATIVE_INFINITY, '-Infinity', 'must be a finite number >= 0'],
    ['resetAfterMs', true, 'true', 'must be a finite number >= 0'],
  ] as const)('rejects %s = %s, naming supervision.backoff.%s and the value', (key, value, shown, expected) => {
    const error = expectConfigError(() => backoffOptions(FIELD, { [key]: value }), `${FIELD}.${key}`, value, shown);
    expect(error.message).toBe(`${FIELD}.${key} ${expected}, got ${shown}`);
  });

  it('checks maxMs against the minMs given, not the default', () => {
    expect(backoffOptions(FIELD, { minMs: 10, maxMs: 50 })).toMatchObject({ minMs: 10, maxMs: 50 });
    const given = expectConfigError(() => backoffOptions(FIELD, { minMs: 40_000, maxMs: 35_000 }), `${FIELD}.maxMs`, 35_000, '35000');
    expect(given.message).toContain('>= minMs (40000)');
  });

  it('blames minMs when it alone was given and exceeds the default maxMs', () => {
    expect(backoffOptions(FIELD, { minMs: 30_000 })).toMatchObject({ minMs: 30_000, maxMs: 30_000 });
    const error = expectConfigError(() => backoffOptions(FIELD, { minMs: 40_000 }), `${FIELD}.minMs`, 40_000, '40000');
    expect(error.message).toBe(`${FIELD}.minMs must be a finite number <= maxMs (30000), got 40000`);
  });
});

describe('backoffDelay', () => {
  // Attempt → delay under the defaults: 100 ms doubling, capped at 30 s from attempt 9 (51 200 > 30 000).
  const table: Array<[number, number]> = [
    [0, 100],
    [1, 200],
    [2, 400],
    [3, 800],
    [4, 1_600],
    [5, 3_200],
    [6, 6_400],
    [7, 12_800],
    [8, 25_600],
    [9, 30_000],
    [10, 30_000],
    [30, 30_000],
    [64, 30_000],
    [1024, 30_000],
    [2 ** 31, 30_000],
    [MAX, 30_000],
  ];

  it.each(table)('waits exactly the base delay without jitter: attempt %d → %d ms', (attempt, base) => {
    expect(backoffDelay(attempt, noJitter, fixed(0.5))).toBe(base);
  });

  it.each(table)('draws nothing at random 0 with 20 %% jitter: attempt %d → 0.8 × %d ms', (attempt, base) => {
    expect(backoffDelay(attempt, DEFAULT_BACKOFF, fixed(0))).toBeCloseTo(0.8 * base, 9);
  });

  it.each(table)('comes close to the base at random 0.999 with 20 %% jitter: attempt %d → 0.9998 × %d ms', (attempt, base) => {
    const delay = backoffDelay(attempt, DEFAULT_BACKOFF, fixed(0.999));
    expect(delay).toBeCloseTo(0.8 * base + 0.2 * base * 0.999, 9);
    expect(delay).toBeLessThan(base);
  });

  it('draws the jittered share linearly: random 0.5 with jitter 0.2 gives 0.9 × base', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, fixed(0.5))).toBeCloseTo(720, 9);
    expect(backoffDelay(3, { ...DEFAULT_BACKOFF, jitter: 1 }, fixed(0.25))).toBeCloseTo(200, 9);
  });

  it('with jitter 1 the whole delay is random: random 0 gives 0', () => {
    expect(backoffDelay(5, { ...DEFAULT_BACKOFF, jitter: 1 }, fixed(0))).toBe(0);
  });

  it('treats a negative, NaN or fractional attempt as its floor, at least 0', () => {
    expect(backoffDelay(-1, noJitter, fixed(0))).toBe(100);
    expect(backoffDelay(-0.5, noJitter, fixed(0))).toBe(100);
    expect(backoffDelay(Number.NEGATIVE_INFINITY, noJitter, fixed(0))).toBe(100);
    expect(backoffDelay(Number.NaN, noJitter, fixed(0))).toBe(100);
    expect(backoffDelay(2.99, noJitter, fixed(0))).toBe(400);
    expect(backoffDelay(0.5, noJitter, fixed(0))).toBe(100);
  });

  it('reaches the ceiling at an infinite attempt instead of overflowing', () => {
    expect(backoffDelay(Number.POSITIVE_INFINITY, noJitter, fixed(0))).toBe(30_000);
  });

  it('never waits with minMs 0, even at huge attempts and with jitter', () => {
    const off = { ...DEFAULT_BACKOFF, minMs: 0 };
    for (const attempt of [0, 1, 1024, 2 ** 31, MAX, Number.POSITIVE_INFINITY]) {
      expect(backoffDelay(attempt, off, fixed(0.7))).toBe(0);
    }
  });

  it('keeps the delay at minMs with factor 1', () => {
    const flat = { ...noJitter, minMs: 250, factor: 1 };
    for (const attempt of [0, 1, 50, MAX, Number.POSITIVE_INFINITY]) expect(backoffDelay(attempt, flat, fixed(0))).toBe(250);
  });

  it('keeps the delay at maxMs when minMs equals it', () => {
    const pinned = { ...noJitter, minMs: 700, maxMs: 700 };
    for (const attempt of [0, 3, MAX]) expect(backoffDelay(attempt, pinned, fixed(0))).toBe(700);
  });

  it('stays finite for extreme but valid options (subnormal minMs, largest maxMs and factor)', () => {
    const extremes: BackoffOptions[] = [
      { minMs: Number.MIN_VALUE, maxMs: Number.MAX_VALUE, factor: Number.MAX_VALUE, jitter: 0.5, resetAfterMs: 0 },
      { minMs: Number.MIN_VALUE, maxMs: Number.MAX_VALUE, factor: 1 + Number.EPSILON, jitter: 0.5, resetAfterMs: 0 },
      { minMs: 1, maxMs: Number.MAX_VALUE, factor: 2, jitter: 1, resetAfterMs: 0 },
    ];
    for (const options of extremes) {
      for (const attempt of [0, 1, 1023, 1024, 1025, 2 ** 31, MAX, Number.POSITIVE_INFINITY]) {
        const delay = backoffDelay(attempt, options, fixed(0.999));
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(options.maxMs);
      }
    }
    expect(backoffDelay(1024, { minMs: 1, maxMs: Number.MAX_VALUE, factor: 2, jitter: 0, resetAfterMs: 0 }, fixed(0))).toBe(Number.MAX_VALUE);
  });

  it('clamps a faulty random source to [0, 1] instead of leaving the range', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, fixed(1.5))).toBe(100);
    expect(backoffDelay(0, DEFAULT_BACKOFF, fixed(-3))).toBeCloseTo(80, 9);
    expect(backoffDelay(0, DEFAULT_BACKOFF, fixed(Number.NaN))).toBeCloseTo(80, 9);
  });

  it('never exceeds the base even where 0.8 · base + 0.2 · base rounds one ulp above it', () => {
    const base = 49717.170002338484;
    expect(base * 0.8 + base * 0.2).toBeGreaterThan(base);
    expect(backoffDelay(0, { ...DEFAULT_BACKOFF, minMs: base, maxMs: 60_000 }, fixed(1))).toBe(base);
  });

  const options = fc
    .record({
      minMs: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })),
      span: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e12, noNaN: true })),
      factor: fc.oneof(fc.constant(1), fc.double({ min: 1, max: 10, noNaN: true }), fc.double({ min: 1, max: 1e300, noNaN: true })),
      jitter: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    })
    .map(({ minMs, span, factor, jitter }): BackoffOptions => ({ minMs, maxMs: minMs + span, factor, jitter, resetAfterMs: 0 }));
  const attempt = fc.oneof(
    fc.integer({ min: -10, max: 2_000 }),
    fc.constantFrom(2 ** 31, MAX, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
    fc.double(),
  );
  const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  it('is always a finite number in [0, maxMs]', () => {
    fc.assert(
      fc.property(options, attempt, random, (opts, n, r) => {
        const delay = backoffDelay(n, opts, fixed(r));
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(opts.maxMs);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never decreases as the attempt grows when jitter is 0', () => {
    fc.assert(
      fc.property(options, attempt, attempt, (opts, a, b) => {
        const flat = { ...opts, jitter: 0 };
        const [low, high] = (Number.isNaN(a) ? 0 : a) <= (Number.isNaN(b) ? 0 : b) ? [a, b] : [b, a];
        expect(backoffDelay(low, flat, fixed(0))).toBeLessThanOrEqual(backoffDelay(high, flat, fixed(0)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('lies within [base · (1 − jitter), base], base being the delay without jitter', () => {
    fc.assert(
      fc.property(options, attempt, random, (opts, n, r) => {
        const base = backoffDelay(n, { ...opts, jitter: 0 }, fixed(0));
        const delay = backoffDelay(n, opts, fixed(r));
        expect(delay).toBeGreaterThanOrEqual(base * (1 - opts.jitter));
        expect(delay).toBeLessThanOrEqual(base);
      }),
      { numRuns: 2_000 },
    );
  });

  it('without jitter equals min(maxMs, minMs · factor^attempt) computed naively', () => {
    fc.assert(
      fc.property(options, fc.integer({ min: 0, max: 2_000 }), (opts, n) => {
        const naive = opts.minMs === 0 ? 0 : Math.min(opts.maxMs, opts.minMs * opts.factor ** n);
        const delay = backoffDelay(n, { ...opts, jitter: 0 }, fixed(0));
        expect(Math.abs(delay - naive)).toBeLessThanOrEqual(naive * 1e-12);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('nextAttempt', () => {
  it('counts up while the child keeps failing sooner than resetAfterMs', () => {
    expect(nextAttempt(0, 10, DEFAULT_BACKOFF)).toBe(1);
    expect(nextAttempt(1, 59_999, DEFAULT_BACKOFF)).toBe(2);
    expect(nextAttempt(41, 0, DEFAULT_BACKOFF)).toBe(42);
  });

  it('starts again from 0 once the child stayed up resetAfterMs or longer', () => {
    expect(nextAttempt(7, 60_000, DEFAULT_BACKOFF)).toBe(0);
    expect(nextAttempt(7, 3_600_000, DEFAULT_BACKOFF)).toBe(0);
    expect(nextAttempt(MAX, Number.POSITIVE_INFINITY, DEFAULT_BACKOFF)).toBe(0);
  });

  it('always resets with resetAfterMs 0', () => {
    expect(nextAttempt(9, 0, { ...DEFAULT_BACKOFF, resetAfterMs: 0 })).toBe(0);
  });

  it('gives attempt 0 after -1, the "never restarted" mark, and after NaN or any negative', () => {
    expect(nextAttempt(-1, 5, DEFAULT_BACKOFF)).toBe(0);
    expect(nextAttempt(-1000, 5, DEFAULT_BACKOFF)).toBe(0);
    expect(nextAttempt(Number.NaN, 5, DEFAULT_BACKOFF)).toBe(0);
  });

  it('floors a fractional previous attempt before counting up', () => {
    expect(nextAttempt(2.7, 5, DEFAULT_BACKOFF)).toBe(3);
    expect(nextAttempt(0.2, 5, DEFAULT_BACKOFF)).toBe(1);
  });

  it('saturates at Number.MAX_SAFE_INTEGER', () => {
    expect(nextAttempt(MAX - 1, 5, DEFAULT_BACKOFF)).toBe(MAX);
    expect(nextAttempt(MAX, 5, DEFAULT_BACKOFF)).toBe(MAX);
    expect(nextAttempt(Number.POSITIVE_INFINITY, 5, DEFAULT_BACKOFF)).toBe(MAX);
  });

  it('does not reset when the uptime is unknown (NaN)', () => {
    expect(nextAttempt(3, Number.NaN, DEFAULT_BACKOFF)).toBe(4);
  });

  it('drives a crash loop: delays double while the child keeps failing, and fall back after a long run', () => {
    let attempt = -1;
    const delays: number[] = [];
    for (const upForMs of [5, 5, 5, 5, 120_000, 5]) {
      attempt = nextAttempt(attempt, upForMs, noJitter);
      delays.push(backoffDelay(attempt, noJitter, fixed(0)));
    }
    expect(delays).toEqual([100, 200, 400, 800, 100, 200]);
  });

  it('always returns an integer in [0, MAX_SAFE_INTEGER]', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.constantFrom(MAX, -1)), fc.double(), fc.double({ min: 0, max: 1e9, noNaN: true }), (previous, up, reset) => {
        const next = nextAttempt(previous, up, { ...DEFAULT_BACKOFF, resetAfterMs: reset });
        expect(Number.isSafeInteger(next)).toBe(true);
        expect(next).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
