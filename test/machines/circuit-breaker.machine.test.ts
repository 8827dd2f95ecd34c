import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getNextSnapshot } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { circuitBreakerMachine, type CircuitBreakerEvent } from '../../machines/circuit-breaker.machine.js';
import { circuitBreaker, type CircuitBreaker } from '../../src/resilience/circuit-breaker.js';

const OPEN_MS = 1_000;
const input = { name: 'model', openMs: OPEN_MS, openBackoffFactor: 2, openMaxMs: 8_000, halfOpenMaxCalls: 2, successThreshold: 2 };
const AFTER = 'xstate.after.openDelay.circuitBreaker.open';

type ModelEvent = CircuitBreakerEvent | { type: typeof AFTER };
const EVENTS: ModelEvent[] = [
  { type: 'TRIP', reason: 'consecutive' },
  { type: 'CALL' },
  { type: 'SUCCESS' },
  { type: 'FAILURE' },
  { type: 'RESET' },
  { type: 'FORCE_OPEN' },
  { type: 'ISOLATE' },
  { type: AFTER },
];

interface ModelSnapshot {
  value: unknown;
  context: { probes: number; probeSuccesses: number; openFor: number };
}

/** Only the events the runtime can cause in a state: a trip in closed, probes and their results in halfOpen, time in open. */
function possible(snapshot: ModelSnapshot, event: ModelEvent): boolean {
  const state = snapshot.value;
  switch (event.type) {
    case 'TRIP':
      return state === 'closed';
    case 'CALL':
      return state === 'halfOpen' && snapshot.context.probes < input.halfOpenMaxCalls;
    case 'SUCCESS':
    case 'FAILURE':
      return state === 'halfOpen' && snapshot.context.probes > 0;
    case AFTER:
      return state === 'open';
    default:
      return true;
  }
}

/** Drives a real breaker the way each model event says, with pending probes it resolves later. */
class Driver {
  readonly breaker: CircuitBreaker;
  private readonly probes: Array<{ resolve: () => void; reject: () => void }> = [];

  constructor() {
    this.breaker = circuitBreaker({ name: 'driven', consecutiveFailures: 1, registry: null, ...{ openMs: OPEN_MS, openBackoff: { factor: 2, maxMs: 8_000 }, halfOpenMaxCalls: 2, successThreshold: 2 } });
  }

  async apply(event: ModelEvent): Promise<void> {
    switch (event.type) {
      case 'TRIP':
        await this.breaker.execute(() => Promise.reject(new Error('trip'))).catch(() => {});
        return;
      case 'CALL': {
        const settled = this.breaker.execute(
          () =>
            new Promise<void>((resolve, reject) => {
              this.probes.push({ resolve, reject: () => reject(new Error('probe failed')) });
            }),
        );
        settled.catch(() => {});
        await vi.advanceTimersByTimeAsync(0);
        return;
      }
      case 'SUCCESS':
        this.probes.shift()?.resolve();
        await vi.advanceTimersByTimeAsync(0);
        return;
      case 'FAILURE':
        this.probes.shift()?.reject();
        await vi.advanceTimersByTimeAsync(0);
        return;
      case 'RESET':
        this.probes.length = 0;
        this.breaker.reset();
        return;
      case 'FORCE_OPEN':
        this.probes.length = 0;
        this.breaker.forceOpen();
        return;
      case 'ISOLATE':
        this.probes.length = 0;
        this.breaker.isolate();
        return;
      case AFTER:
        await vi.advanceTimersByTimeAsync(8_000);
        return;
    }
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('circuit breaker machine, model-based', () => {
  const paths = getShortestPaths(circuitBreakerMachine, {
    input,
    events: EVENTS as CircuitBreakerEvent[],
    filterEvents: (snapshot, event) => possible(snapshot as unknown as ModelSnapshot, event),
    serializeState: (snapshot) => {
      const s = snapshot as unknown as ModelSnapshot;
      return JSON.stringify([s.value, s.context.probes, s.context.probeSuccesses]);
    },
  });

  it('reaches every state of the machine', () => {
    const reached = new Set(paths.map((path) => path.state.value as string));
    expect([...reached].sort()).toEqual(['closed', 'halfOpen', 'isolated', 'open']);
  });

  /** Every transition: the shortest path to each state, then each event possible there. */
  const walks = paths.flatMap((path) =>
    EVENTS.filter((event) => possible(path.state as unknown as ModelSnapshot, event)).map((event) => ({
      events: [...path.steps.map((step) => step.event as ModelEvent), event],
      from: path.state.value as string,
      to: getNextSnapshot(circuitBreakerMachine, path.state, event as CircuitBreakerEvent).value as string,
    })),
  );

  it('covers every transition between states', () => {
    const transitions = new Set(walks.filter((w) => w.from !== 'restoring').map((w) => `${w.from} -> ${w.to}`));
    for (const expected of [
      'closed -> open',
      'closed -> isolated',
      'open -> halfOpen',
      'open -> closed',
      'open -> isolated',
      'halfOpen -> closed',
      'halfOpen -> open',
      'halfOpen -> isolated',
      'isolated -> closed',
    ]) {
      expect(transitions, expected).toContain(expected);
    }
  });

  it('the runtime makes every transition the machine makes (shortest path, then each event)', async () => {
    for (const walk of walks) {
      const driver = new Driver();
      try {
        for (const event of walk.events) await driver.apply(event);
        expect(driver.breaker.state, walk.events.map((e) => e.type).join(' ')).toBe(walk.to);
      } finally {
        driver.breaker.dispose();
      }
    }
  });

  it('the runtime follows every path to the state the machine reaches', async () => {
    for (const path of paths) {
      const driver = new Driver();
      try {
        for (const step of path.steps) await driver.apply(step.event as ModelEvent);
        expect(driver.breaker.state, path.steps.map((s) => s.event.type).join(' ')).toBe(path.state.value);
      } finally {
        driver.breaker.dispose();
      }
    }
  });
});

describe('circuit breaker, property', () => {
  const ALLOWED = new Set([
    'closed>closed',
    'closed>open',
    'closed>isolated',
    'open>halfOpen',
    'open>closed',
    'open>isolated',
    'open>open',
    'halfOpen>closed',
    'halfOpen>open',
    'halfOpen>isolated',
    'isolated>closed',
    'isolated>isolated',
  ]);
  const op = fc.oneof(
    fc.constant<'ok'>('ok'),
    fc.constant<'fail'>('fail'),
    fc.integer({ min: 1, max: 3_000 }).map((ms) => ({ wait: ms })),
    fc.constantFrom<'reset' | 'isolate' | 'forceOpen'>('reset', 'isolate', 'forceOpen'),
  );

  it('never makes a transition the design does not allow, whatever the calls, failures and time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const b = circuitBreaker({ name: 'prop', consecutiveFailures: 2, openMs: 500, halfOpenMaxCalls: 1, successThreshold: 2, registry: null });
        const seen: string[] = [];
        let previous = b.state;
        b.onAny(() => {
          const now = b.state;
          seen.push(`${previous}>${now}`);
          previous = now;
        });
        try {
          for (const o of ops) {
            if (o === 'ok') await b.execute(() => Promise.resolve(1)).catch(() => {});
            else if (o === 'fail') await b.execute(() => Promise.reject(new Error('x'))).catch(() => {});
            else if (o === 'reset') b.reset();
            else if (o === 'isolate') b.isolate();
            else if (o === 'forceOpen') b.forceOpen();
            else await vi.advanceTimersByTimeAsync(o.wait);
          }
          for (const transition of seen) expect(ALLOWED, transition).toContain(transition);
        } finally {
          b.dispose();
        }
      }),
      { numRuns: 200 },
    );
  });
});
