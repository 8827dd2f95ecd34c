import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RestartType } from '../../supervisors/restart-decision.js';
import type { Strategy } from '../../supervisors/strategies.js';
import { createSupervisor } from '../../src/supervision/supervisor.js';
import { FakeChildren } from './fake-children.js';

const silent = pino({ level: 'silent' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const restartTypes = fc.constantFrom<RestartType>('permanent', 'transient', 'temporary');
const strategies = fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one');

/** A scenario: children with restart types, then crashes of random children at random gaps. */
const scenario = fc.record({
  strategy: strategies,
  types: fc.array(restartTypes, { minLength: 1, maxLength: 5 }),
  maxRestarts: fc.integer({ min: 0, max: 4 }),
  withinMs: fc.integer({ min: 50, max: 2_000 }),
  crashes: fc.array(fc.record({ child: fc.nat(), gapMs: fc.integer({ min: 0, max: 700 }) }), { maxLength: 25 }),
});

describe('supervisor properties', () => {
  it('never restarts a temporary child, and never makes more restarts in a window than maxRestarts without giving up', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ strategy, types, maxRestarts, withinMs, crashes }) => {
        const fakes = new FakeChildren();
        const ids = types.map((_, i) => `c${i}`);
        const restartsAt: number[] = [];
        const sup = createSupervisor({
          name: 'prop',
          strategy,
          maxRestarts,
          withinMs,
          logger: silent,
          backoff: { minMs: 1, maxMs: 1, factor: 1, jitter: 0, resetAfterMs: 1_000_000 },
          children: ids.map((id, i) => fakes.spec(id, { restart: types[i] as RestartType })),
        });
        sup.on('steadfast.supervisor.restarting', () => restartsAt.push(Date.now()));
        await sup.start();
        try {
          for (const { child, gapMs } of crashes) {
            await vi.advanceTimersByTimeAsync(gapMs);
            if (sup.status !== 'running') break;
            const live = [...fakes.live.values()];
            if (live.length === 0) break;
            (live[child % live.length] as { crash(): void }).crash();
            await vi.advanceTimersByTimeAsync(5);
          }
          // A temporary child is started once, and never again.
          for (const [i, id] of ids.entries()) {
            const starts = fakes.journal.filter((line) => line === `start ${id}`).length;
            if (types[i] === 'temporary') expect(starts).toBeLessThanOrEqual(1);
          }
          // No window of withinMs holds more than maxRestarts restarts while the supervisor still runs.
          for (let i = 0; i < restartsAt.length; i++) {
            const inWindow = restartsAt.filter((at) => at <= (restartsAt[i] as number) && at >= (restartsAt[i] as number) - withinMs).length;
            expect(inWindow).toBeLessThanOrEqual(maxRestarts);
          }
        } finally {
          sup.kill();
        }
      }),
      { numRuns: 150 },
    );
  });
});
