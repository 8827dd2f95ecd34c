import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF } from '../../src/core/backoff.js';
import { decideExit, type DecisionSettings, type ExitFacts } from '../../supervisors/exit-decision.js';

const settings = (over: Partial<DecisionSettings> = {}): DecisionSettings => ({
  strategy: 'one_for_one',
  maxRestarts: 3,
  withinMs: 1_000,
  flapping: { runaway: 5, cycleRepeats: 2, window: 32, escalate: false },
  backoff: { ...DEFAULT_BACKOFF, jitter: 0 },
  ...over,
});
const facts = (over: Partial<ExitFacts> = {}): ExitFacts => ({
  id: 'a',
  exit: 'error',
  restart: 'permanent',
  at: 10_000,
  children: [{ id: 'a', restart: 'permanent' }],
  attempt: -1,
  upMs: 5,
  draw: 0.5,
  ...over,
});
const empty = { window: [], history: [] };

describe('decideExit (a supervisor\'s decision about one exit)', () => {
  it('removes a child whose restart type does not restart it after this exit', () => {
    expect(decideExit(settings(), empty, facts({ restart: 'transient', exit: 'normal' }))).toEqual({ kind: 'remove' });
    expect(decideExit(settings(), empty, facts({ restart: 'temporary' }))).toEqual({ kind: 'remove' });
  });

  it('restarts by the strategy\'s plan after the backoff delay, and remembers the restart', () => {
    const decision = decideExit(settings(), empty, facts());
    expect(decision).toEqual({ kind: 'restart', plan: { stop: [], start: ['a'], remove: [] }, delayMs: 100, attempt: 0, window: [10_000], history: ['a'], flap: undefined });
    const all = decideExit(settings({ strategy: 'one_for_all' }), empty, facts({ children: [{ id: 'a', restart: 'permanent' }, { id: 'b', restart: 'temporary' }, { id: 'c', restart: 'permanent' }] }));
    expect(all).toMatchObject({ kind: 'restart', plan: { stop: ['c', 'b'], start: ['a', 'c'], remove: ['b'] } });
  });

  it('grows the delay with the attempt, starts over after resetAfterMs up, and draws the jitter from the given number', () => {
    expect(decideExit(settings(), empty, facts({ attempt: 2 }))).toMatchObject({ attempt: 3, delayMs: 800 });
    expect(decideExit(settings(), empty, facts({ attempt: 2, upMs: DEFAULT_BACKOFF.resetAfterMs }))).toMatchObject({ attempt: 0, delayMs: 100 });
    const jittered = settings({ backoff: { ...DEFAULT_BACKOFF, jitter: 0.5 } });
    expect(decideExit(jittered, empty, facts({ draw: 0 }))).toMatchObject({ delayMs: 50 });
    expect(decideExit(jittered, empty, facts({ draw: 0.5 }))).toMatchObject({ delayMs: 75 });
  });

  it('escalates once more than maxRestarts restarts fall within withinMs (a restart exactly withinMs ago still counts)', () => {
    const memory = { window: [9_000, 9_500, 9_900], history: ['a', 'a', 'a'] };
    expect(decideExit(settings(), memory, facts())).toEqual({ kind: 'escalate', reason: 'intensity', window: [9_000, 9_500, 9_900, 10_000], flap: undefined });
    expect(decideExit(settings(), { ...memory, window: [8_999, 9_500, 9_900] }, facts())).toMatchObject({ kind: 'restart', window: [9_500, 9_900, 10_000] });
  });

  it('reports flapping with the restart, or escalates on it when set to', () => {
    const memory = { window: [], history: ['a', 'b', 'a'] };
    const abab = facts({ id: 'b', children: [{ id: 'b', restart: 'permanent' }] });
    expect(decideExit(settings(), memory, abab)).toMatchObject({ kind: 'restart', flap: { pattern: 'ABAB', children: ['a', 'b'] } });
    expect(decideExit(settings({ flapping: { runaway: 5, cycleRepeats: 2, window: 32, escalate: true } }), memory, abab)).toMatchObject({
      kind: 'escalate',
      reason: 'flapping',
      flap: { pattern: 'ABAB' },
    });
  });

  it('never restarts more than maxRestarts times within a window, whatever the exits (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 5 }), (gaps, maxRestarts) => {
        const s = settings({ maxRestarts, withinMs: 1_000 });
        let memory = { window: [] as number[], history: [] as string[] };
        let at = 0;
        const restarts: number[] = [];
        for (const gap of gaps) {
          at += gap;
          const decision = decideExit(s, memory, facts({ at }));
          if (decision.kind === 'escalate') return;
          if (decision.kind !== 'restart') throw new Error('a permanent child that crashed is restarted or escalates');
          restarts.push(at);
          memory = { window: decision.window, history: decision.history };
          expect(restarts.filter((t) => t >= at - 1_000).length).toBeLessThanOrEqual(maxRestarts);
        }
      }),
    );
  });
});
