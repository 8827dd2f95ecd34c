import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { presets } from '../../src/resilience/presets.js';
import { retry } from '../../src/resilience/retry.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('retry presets', () => {
  it('carry the seed numbers, counting retries after the first attempt (maxAttempts = retries + 1)', () => {
    expect(presets).toEqual({
      transient: { maxAttempts: 4, baseMs: 1_000, maxDelayMs: 30_000 },
      external: { maxAttempts: 6, baseMs: 2_000, maxDelayMs: 60_000 },
      critical: { maxAttempts: 11, baseMs: 500, maxDelayMs: 120_000 },
      aggressive: { maxAttempts: 8, baseMs: 100, maxDelayMs: 10_000 },
      none: { maxAttempts: 1 },
    });
  });

  it('are frozen, the table and every preset', () => {
    expect(Object.isFrozen(presets)).toBe(true);
    for (const preset of Object.values(presets)) expect(Object.isFrozen(preset)).toBe(true);
  });

  it('build policies as they are', () => {
    for (const [name, preset] of Object.entries(presets)) {
      const policy = retry(preset);
      expect({ name, maxAttempts: policy.maxAttempts }).toEqual({ name, maxAttempts: preset.maxAttempts });
    }
    expect(retry(presets.critical)).toMatchObject({ baseMs: 500, maxDelayMs: 120_000, backoff: 'exponential' });
  });

  it('can be spread and overridden', async () => {
    const policy = retry({ ...presets.transient, retryOn: () => false });
    const work = vi.fn(() => Promise.reject(new Error('fatal')));
    await expect(policy.execute(work)).rejects.toThrow('fatal');
    expect(work).toHaveBeenCalledTimes(1);
    expect(retry({ ...presets.external, backoff: 'decorrelated' })).toMatchObject({ baseMs: 2_000, backoff: 'decorrelated' });
  });

  it('transient waits 1 s, 2 s, 4 s (jitter 0) between its 4 attempts', async () => {
    const delays: number[] = [];
    const done = retry({ ...presets.transient, jitter: 0, onRetry: (info) => delays.push(info.delayMs) })
      .execute(() => Promise.reject(new Error('down')))
      .catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await done).toMatchObject({ code: 'RETRY_EXHAUSTED', attempts: 4 });
    expect(delays).toEqual([1_000, 2_000, 4_000]);
  });

  it('none makes one attempt', async () => {
    const work = vi.fn(() => Promise.reject(new Error('once')));
    await expect(retry(presets.none).execute(work)).rejects.toMatchObject({ code: 'RETRY_EXHAUSTED', attempts: 1 });
    expect(work).toHaveBeenCalledTimes(1);
  });
});
