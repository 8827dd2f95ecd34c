// A supervisor on a simulated clock: backoff and shutdown budgets without real waiting (issue 11, item 4).
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { createSupervisor } from '../../src/supervision/supervisor.js';
import { FakeChildren } from './fake-children.js';

const silent = { level: 'silent' };

describe('a supervisor on a simulated clock', () => {
  it('restarts a crashed child exactly when its backoff has elapsed, the delay growing per attempt', async () => {
    const clock = new SimulatedClock();
    const kids = new FakeChildren();
    const root = createSupervisor({
      name: 'sim',
      clock,
      random: () => 0.5,
      backoff: { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0, resetAfterMs: 60_000 },
      children: [kids.spec('a')],
      logger: (await import('pino')).pino(silent),
    });
    await root.start();
    expect(kids.journal).toEqual(['start a']);
    kids.live.get('a')!.crash();
    await clock.advance(99);
    expect(kids.journal).toEqual(['start a']);
    await clock.advance(1);
    expect(kids.journal).toEqual(['start a', 'start a']);
    // The second crash in a row waits twice as long.
    kids.live.get('a')!.crash();
    await clock.advance(199);
    expect(kids.journal).toHaveLength(2);
    await clock.advance(1);
    expect(kids.journal).toEqual(['start a', 'start a', 'start a']);
    await root.stop();
    expect(clock.pending).toBe(0);
  });

  it('kills a child that does not stop within its shutdown budget, on the clock', async () => {
    const clock = new SimulatedClock();
    const kids = new FakeChildren();
    const root = createSupervisor({ name: 'budget', clock, children: [kids.spec('slow', { hang: true, shutdown: 5_000 })], logger: (await import('pino')).pino(silent) });
    await root.start();
    const stopping = root.stop();
    await clock.advance(4_999);
    expect(kids.journal).toEqual(['start slow', 'stop slow']);
    await clock.advance(1);
    await stopping;
    expect(kids.journal).toEqual(['start slow', 'stop slow', 'kill slow']);
    expect(root.stats().killed).toBe(1);
  });
});
