import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CircuitOpenError } from '../../src/core/errors.js';
import { BREAKER_ENV, defaultBreakerThreshold, defaultBreakerTimeoutMs } from '../../src/resilience/breaker-env-defaults.js';
import { circuitBreaker } from '../../src/resilience/circuit-breaker.js';
import { createPipeline, defineStage, fromIterable } from '../../src/index.js';
import { expectConfigError } from '../helpers/config-error.js';

describe('breaker defaults from the environment', () => {
  it('are 5 failures and 10 000 ms when the variables are unset or empty', () => {
    expect(defaultBreakerThreshold({})).toBe(5);
    expect(defaultBreakerTimeoutMs({})).toBe(10_000);
    expect(defaultBreakerThreshold({ [BREAKER_ENV.threshold]: '' })).toBe(5);
    expect(defaultBreakerTimeoutMs({ [BREAKER_ENV.timeoutMs]: '  ' })).toBe(10_000);
  });

  it('read STEADFAST_BREAKER_THRESHOLD and STEADFAST_BREAKER_TIMEOUT_MS, blanks around ignored', () => {
    expect(defaultBreakerThreshold({ STEADFAST_BREAKER_THRESHOLD: '3' })).toBe(3);
    expect(defaultBreakerThreshold({ STEADFAST_BREAKER_THRESHOLD: ' 1000000 ' })).toBe(1_000_000);
    expect(defaultBreakerTimeoutMs({ STEADFAST_BREAKER_TIMEOUT_MS: '250' })).toBe(250);
    expect(defaultBreakerTimeoutMs({ STEADFAST_BREAKER_TIMEOUT_MS: '2147483647' })).toBe(2_147_483_647);
  });

  it.each(['0', '-1', 'five', '2.5', '1e3', '0x10', '1000001', '99999999999999999'])('reject STEADFAST_BREAKER_THRESHOLD=%j as CONFIG_INVALID naming the variable', (raw) => {
    const error = expectConfigError(() => defaultBreakerThreshold({ STEADFAST_BREAKER_THRESHOLD: raw }), 'STEADFAST_BREAKER_THRESHOLD', raw, JSON.stringify(raw));
    expect(error.message).toContain('must be an integer in [1, 1000000]');
  });

  it.each(['0', '10s', '-5', '2147483648', 'xxx'])('reject STEADFAST_BREAKER_TIMEOUT_MS=%j as CONFIG_INVALID naming the variable', (raw) => {
    expectConfigError(() => defaultBreakerTimeoutMs({ STEADFAST_BREAKER_TIMEOUT_MS: raw }), 'STEADFAST_BREAKER_TIMEOUT_MS', raw, JSON.stringify(raw));
  });
});

describe('breakers created without a threshold or openMs', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const name of Object.values(BREAKER_ENV)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  const boom = () => Promise.reject(new Error('boom'));

  it('open after STEADFAST_BREAKER_THRESHOLD failures in a row, for STEADFAST_BREAKER_TIMEOUT_MS', async () => {
    process.env.STEADFAST_BREAKER_THRESHOLD = '2';
    process.env.STEADFAST_BREAKER_TIMEOUT_MS = '3000';
    const b = circuitBreaker({ name: 'env', registry: null });
    try {
      await b.execute(boom).catch(() => {});
      expect(b.state).toBe('closed');
      await b.execute(boom).catch(() => {});
      expect(b.state).toBe('open');
      const refused = await b.execute(boom).catch((e: unknown) => e);
      expect((refused as CircuitOpenError).retryAfterMs).toBe(3_000);
      vi.advanceTimersByTime(2_999);
      expect(b.state).toBe('open');
      vi.advanceTimersByTime(1);
      expect(b.state).toBe('halfOpen');
    } finally {
      b.dispose();
    }
  });

  it('keep the options given in code over the environment', async () => {
    process.env.STEADFAST_BREAKER_THRESHOLD = '1';
    process.env.STEADFAST_BREAKER_TIMEOUT_MS = '3000';
    const b = circuitBreaker({ name: 'coded', registry: null, consecutiveFailures: 3, openMs: 500 });
    try {
      for (let i = 0; i < 2; i++) await b.execute(boom).catch(() => {});
      expect(b.state).toBe('closed');
      await b.execute(boom).catch(() => {});
      expect(b.state).toBe('open');
      vi.advanceTimersByTime(500);
      expect(b.state).toBe('halfOpen');
    } finally {
      b.dispose();
    }
  });

  it('fail with the variable named when it is invalid, for a breaker and for a pipeline with a `breaker: true` stage', () => {
    process.env.STEADFAST_BREAKER_THRESHOLD = 'many';
    expectConfigError(() => circuitBreaker({ name: 'bad', registry: null }), 'STEADFAST_BREAKER_THRESHOLD', 'many', '"many"');
    const guarded = defineStage({ name: 'guarded', breaker: true, process: (n: number) => ({ emit: [n] }) });
    expectConfigError(() => createPipeline({ name: 'p', source: fromIterable([1]), stages: [guarded], logLevel: 'silent' }), 'STEADFAST_BREAKER_THRESHOLD', 'many', '"many"');
    // Not read when the code gives every default it would supply.
    const b = circuitBreaker({ name: 'explicit', registry: null, consecutiveFailures: 2, openMs: 100 });
    b.dispose();
  });
});
