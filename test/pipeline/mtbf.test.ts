import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray } from '../../src/index.js';

/** Seed 002's MTBF check: 10,000 operations against a dependency failing 1 % of the time. */
describe('availability under random failures', () => {
  it('keeps availability above 99 % over 10,000 operations at 1 % failure, with retries and automatic restarts', async () => {
    let seed = 2002;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let attempts = 0;
    let failures = 0;
    const operate = defineStage({
      name: 'operate',
      retry: { maxAttempts: 3, baseMs: 1, maxDelayMs: 1, jitter: 0 },
      process: async (n: number) => {
        attempts++;
        if (random() < 0.01) {
          failures++;
          throw new Error(`operation ${n} failed`);
        }
        return { emit: [n] };
      },
    });
    const sink = toArray<number>();
    const stats = await createPipeline({
      name: 'mtbf',
      source: fromIterable(Array.from({ length: 10_000 }, (_, i) => i)),
      stages: [operate],
      sink,
      supervision: { backoff: { minMs: 1, maxMs: 10, jitter: 0 } },
      onError: () => {},
      logLevel: 'silent',
    }).run();
    const availability = sink.items.length / 10_000;
    expect(failures).toBeGreaterThan(50); // about 1 % of the attempts did fail
    expect(attempts).toBe(10_000 + failures);
    expect(availability).toBeGreaterThan(0.99);
    expect(stats.status).toBe('stopped');
    expect(new Set(sink.items).size).toBe(sink.items.length);
  });
});
