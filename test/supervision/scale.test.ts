import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/supervision/supervisor.js';

const silent = pino({ level: 'silent' });

/** Milliseconds to start `n` dynamic children and stop them all. */
async function startStop(n: number): Promise<number> {
  const sup = createSupervisor({ name: 'many', strategy: 'simple_one_for_one', logger: silent, child: { id: 'w', start: () => ({ stop() {}, kill() {} }) } });
  await sup.start();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await sup.startChild(i);
  expect(sup.stats().children).toBe(n);
  await sup.stop();
  return performance.now() - t0;
}

describe('supervisor scale', () => {
  it('keeps the cost per child flat: 10x the children take well under 50x the time (XState spawnChild is quadratic)', async () => {
    await startStop(1_000); // warm-up
    const small = Math.min(await startStop(1_000), await startStop(1_000));
    const large = await startStop(10_000);
    expect(large / small).toBeLessThan(50);
  });
});
