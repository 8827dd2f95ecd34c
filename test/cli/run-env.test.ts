import { describe, expect, it } from 'vitest';
import { readRunEnv } from '../../src/cli/run-env.js';
import { expectConfigError } from '../helpers/config-error.js';

describe('the STEADFAST_* environment of steadfast run', () => {
  it('defaults to metrics on, no --http default and no interval when nothing is set (or only blanks)', () => {
    expect(readRunEnv({})).toEqual({ metrics: true, http: undefined, statusIntervalMs: undefined, mode: undefined, logFormat: 'auto' });
    expect(readRunEnv({ STEADFAST_METRICS: '', STEADFAST_HTTP: ' ', STEADFAST_LOG_LEVEL: '', STEADFAST_MODE: '', STEADFAST_LOG_FORMAT: '' })).toEqual({
      metrics: true,
      http: undefined,
      statusIntervalMs: undefined,
      mode: undefined,
      logFormat: 'auto',
    });
  });

  it('reads STEADFAST_MODE (the library reads it too) and STEADFAST_LOG_FORMAT', () => {
    for (const mode of ['throughput', 'standard', 'debug'] as const) expect(readRunEnv({ STEADFAST_MODE: mode }).mode).toBe(mode);
    for (const format of ['auto', 'pretty', 'json'] as const) expect(readRunEnv({ STEADFAST_LOG_FORMAT: format }).logFormat).toBe(format);
  });

  it('reads STEADFAST_METRICS as on/off, STEADFAST_HTTP and STEADFAST_STATUS_INTERVAL_MS', () => {
    for (const off of ['off', 'OFF', 'false', '0', 'no']) expect(readRunEnv({ STEADFAST_METRICS: off }).metrics).toBe(false);
    for (const on of ['on', 'true', '1', 'yes']) expect(readRunEnv({ STEADFAST_METRICS: on }).metrics).toBe(true);
    expect(readRunEnv({ STEADFAST_HTTP: '127.0.0.1:9464', STEADFAST_STATUS_INTERVAL_MS: '250' })).toMatchObject({ http: '127.0.0.1:9464', statusIntervalMs: 250 });
    expect(readRunEnv({ STEADFAST_STATUS_INTERVAL_MS: '0' }).statusIntervalMs).toBe(0);
  });

  it('names the variable of a bad value, the library’s own ones included', () => {
    expectConfigError(() => readRunEnv({ STEADFAST_METRICS: 'maybe' }), 'STEADFAST_METRICS', 'maybe', '"maybe"');
    expectConfigError(() => readRunEnv({ STEADFAST_LOG_LEVEL: 'loud' }), 'STEADFAST_LOG_LEVEL', 'loud', '"loud"');
    expectConfigError(() => readRunEnv({ STEADFAST_MODE: 'fast' }), 'STEADFAST_MODE', 'fast', '"fast"');
    expectConfigError(() => readRunEnv({ STEADFAST_LOG_FORMAT: 'color' }), 'STEADFAST_LOG_FORMAT', 'color', '"color"');
    expectConfigError(() => readRunEnv({ STEADFAST_STATUS_INTERVAL_MS: '50' }), 'STEADFAST_STATUS_INTERVAL_MS', '50', '"50"');
    expectConfigError(() => readRunEnv({ STEADFAST_BREAKER_THRESHOLD: '0' }), 'STEADFAST_BREAKER_THRESHOLD', '0', '"0"');
    expectConfigError(() => readRunEnv({ STEADFAST_BREAKER_TIMEOUT_MS: '1s' }), 'STEADFAST_BREAKER_TIMEOUT_MS', '1s', '"1s"');
  });
});
