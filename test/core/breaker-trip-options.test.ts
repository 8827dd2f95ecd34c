import { describe, expect, it } from 'vitest';
import { TRIP_DEFAULTS, TRIP_OPTION_KEYS, tripOptions } from '../../src/core/breaker-trip-options.js';
import { knownKeys } from '../../src/core/validate.js';
import { configErrorOf, expectConfigError } from '../helpers/config-error.js';

const F = 'breaker';

describe('tripOptions', () => {
  it('fills in a count window of 100 calls, minimumCalls 10 and emaAlpha 0.1', () => {
    expect(TRIP_DEFAULTS).toEqual({ windowSize: 100, minimumCalls: 10, emaAlpha: 0.1 });
    expect(tripOptions(F, { failureRate: 0.5 })).toEqual({
      consecutiveFailures: undefined,
      failureRate: 0.5,
      slowCallRate: undefined,
      slowCallMs: undefined,
      emaAlpha: 0.1,
      emaThreshold: undefined,
      minimumCalls: 10,
      window: { kind: 'count', size: 100 },
    });
  });

  it('keeps every condition given, combined', () => {
    const options = tripOptions(F, {
      consecutiveFailures: 5,
      failureRate: 0.25,
      slowCallRate: 1,
      slowCallMs: 250,
      emaAlpha: 0.5,
      emaThreshold: 0.75,
      minimumCalls: 3,
      window: { kind: 'time', ms: 10_000, buckets: 10 },
    });
    expect(options).toEqual({
      consecutiveFailures: 5,
      failureRate: 0.25,
      slowCallRate: 1,
      slowCallMs: 250,
      emaAlpha: 0.5,
      emaThreshold: 0.75,
      minimumCalls: 3,
      window: { kind: 'time', ms: 10_000, buckets: 10 },
    });
  });

  it('returns frozen options, window included', () => {
    const options = tripOptions(F, { consecutiveFailures: 1 });
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.window)).toBe(true);
  });

  it('treats explicitly undefined fields as absent', () => {
    expect(tripOptions(F, { consecutiveFailures: 2, failureRate: undefined, window: undefined }).window).toEqual({ kind: 'count', size: 100 });
  });

  it('ignores keys that are not trip options, which the breaker checks against TRIP_OPTION_KEYS', () => {
    const breakerOptions = { name: 'geo-api', openMs: 10_000, consecutiveFailures: 5 };
    expect(tripOptions(F, breakerOptions).consecutiveFailures).toBe(5);
    expect(() => knownKeys(F, breakerOptions, [...TRIP_OPTION_KEYS, 'name', 'openMs'])).not.toThrow();
  });

  it('requires at least one trip condition; a window, slowCallMs, emaAlpha or minimumCalls alone trip nothing', () => {
    for (const value of [{}, { window: { kind: 'count', size: 5 } }, { slowCallMs: 100 }, { emaAlpha: 0.2 }, { minimumCalls: 3 }]) {
      const error = expectConfigError(() => tripOptions(F, value), F, value, JSON.stringify(value));
      expect(error.message).toContain('consecutiveFailures, failureRate, slowCallRate or emaThreshold');
    }
  });

  it('rejects a non-object', () => {
    expectConfigError(() => tripOptions(F, undefined), F, undefined, 'undefined');
    expectConfigError(() => tripOptions(F, 5), F, 5, '5');
  });

  it('accepts rates at 1 and just above 0, rejects 0, above 1, NaN and non-numbers', () => {
    for (const key of ['failureRate', 'slowCallRate', 'emaThreshold', 'emaAlpha'] as const) {
      const base = { consecutiveFailures: 1, slowCallMs: 10 };
      expect(tripOptions(F, { ...base, [key]: 1 })[key]).toBe(1);
      expect(tripOptions(F, { ...base, [key]: Number.MIN_VALUE })[key]).toBe(Number.MIN_VALUE);
      for (const bad of [0, -0.5, 1.0000001, Number.NaN, Infinity, '0.5', null]) {
        const error = configErrorOf(() => tripOptions(F, { ...base, [key]: bad }));
        expect(error.field).toBe(`${F}.${key}`);
        expect(error.message).toContain('must be a number in (0, 1]');
      }
    }
  });

  it('needs consecutiveFailures to be a positive integer', () => {
    expect(tripOptions(F, { consecutiveFailures: 1 }).consecutiveFailures).toBe(1);
    expectConfigError(() => tripOptions(F, { consecutiveFailures: 0 }), `${F}.consecutiveFailures`, 0, '0');
    expectConfigError(() => tripOptions(F, { consecutiveFailures: 2.5 }), `${F}.consecutiveFailures`, 2.5, '2.5');
  });

  it('needs slowCallMs with slowCallRate, and slowCallMs > 0 and finite', () => {
    const error = expectConfigError(() => tripOptions(F, { slowCallRate: 0.5 }), `${F}.slowCallMs`, undefined, 'undefined');
    expect(error.message).toContain('when slowCallRate is');
    expectConfigError(() => tripOptions(F, { slowCallRate: 0.5, slowCallMs: 0 }), `${F}.slowCallMs`, 0, '0');
    expectConfigError(() => tripOptions(F, { slowCallRate: 0.5, slowCallMs: Infinity }), `${F}.slowCallMs`, Infinity, 'Infinity');
    expect(tripOptions(F, { slowCallRate: 0.5, slowCallMs: 0.5 }).slowCallMs).toBe(0.5);
  });

  describe('window', () => {
    const withWindow = (window: unknown) => tripOptions(F, { failureRate: 0.5, window });

    it('accepts count sizes from 1 to 1,000,000', () => {
      expect(withWindow({ kind: 'count', size: 1 }).window).toEqual({ kind: 'count', size: 1 });
      expect(withWindow({ kind: 'count', size: 1_000_000 }).window).toEqual({ kind: 'count', size: 1_000_000 });
      expectConfigError(() => withWindow({ kind: 'count', size: 0 }), `${F}.window.size`, 0, '0');
      expectConfigError(() => withWindow({ kind: 'count', size: 1_000_001 }), `${F}.window.size`, 1_000_001, '1000001');
      expectConfigError(() => withWindow({ kind: 'count' }), `${F}.window.size`, undefined, 'undefined');
    });

    it('accepts a time window whose ms is a multiple of its 1 to 10,000 buckets', () => {
      expect(withWindow({ kind: 'time', ms: 1, buckets: 1 }).window).toEqual({ kind: 'time', ms: 1, buckets: 1 });
      expect(withWindow({ kind: 'time', ms: 60_000, buckets: 10_000 }).window).toEqual({ kind: 'time', ms: 60_000, buckets: 10_000 });
      expectConfigError(() => withWindow({ kind: 'time', ms: 60_000, buckets: 10_001 }), `${F}.window.buckets`, 10_001, '10001');
      expectConfigError(() => withWindow({ kind: 'time', ms: 5, buckets: 6 }), `${F}.window.buckets`, 6, '6');
      const error = expectConfigError(() => withWindow({ kind: 'time', ms: 10_000, buckets: 3 }), `${F}.window.buckets`, 3, '3');
      expect(error.message).toContain('must divide breaker.window.ms (10000) evenly');
      expectConfigError(() => withWindow({ kind: 'time', ms: 0, buckets: 1 }), `${F}.window.ms`, 0, '0');
      expectConfigError(() => withWindow({ kind: 'time', ms: 2 ** 31, buckets: 1 }), `${F}.window.ms`, 2 ** 31, String(2 ** 31));
      expectConfigError(() => withWindow({ kind: 'time', ms: 1.5, buckets: 1 }), `${F}.window.ms`, 1.5, '1.5');
    });

    it('rejects an unknown kind, a typo in a key, and a key of the other kind', () => {
      expectConfigError(() => withWindow({ kind: 'sliding', size: 5 }), `${F}.window.kind`, 'sliding', '"sliding"');
      expectConfigError(() => withWindow({ kind: 'count', sise: 5 }), `${F}.window.sise`, 5, '5');
      expectConfigError(() => withWindow({ kind: 'count', size: 5, buckets: 2 }), `${F}.window.buckets`, 2, '2');
      expectConfigError(() => withWindow({ kind: 'time', ms: 10, buckets: 2, size: 5 }), `${F}.window.size`, 5, '5');
      expectConfigError(() => withWindow('count'), `${F}.window`, 'count', '"count"');
    });
  });

  describe('minimumCalls', () => {
    it('is a positive integer', () => {
      expect(tripOptions(F, { failureRate: 0.5, minimumCalls: 1 }).minimumCalls).toBe(1);
      expectConfigError(() => tripOptions(F, { failureRate: 0.5, minimumCalls: 0 }), `${F}.minimumCalls`, 0, '0');
      expectConfigError(() => tripOptions(F, { failureRate: 0.5, minimumCalls: 1.5 }), `${F}.minimumCalls`, 1.5, '1.5');
    });

    it('defaults to the count window size when that is below 10, as resilience4j does', () => {
      expect(tripOptions(F, { failureRate: 0.5, window: { kind: 'count', size: 4 } }).minimumCalls).toBe(4);
      expect(tripOptions(F, { failureRate: 0.5, window: { kind: 'time', ms: 4, buckets: 4 } }).minimumCalls).toBe(10);
    });

    it('rejects an explicit minimumCalls above the count window size, which could never be met', () => {
      expect(tripOptions(F, { failureRate: 0.5, minimumCalls: 4, window: { kind: 'count', size: 4 } }).minimumCalls).toBe(4);
      const error = expectConfigError(
        () => tripOptions(F, { failureRate: 0.5, minimumCalls: 5, window: { kind: 'count', size: 4 } }),
        `${F}.minimumCalls`,
        5,
        '5',
      );
      expect(error.message).toContain("count window's size (4)");
      expect(tripOptions(F, { failureRate: 0.5, minimumCalls: 500, window: { kind: 'time', ms: 10, buckets: 1 } }).minimumCalls).toBe(500);
    });
  });
});
