import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SteadfastError, isSteadfastError } from '../../src/core/errors.js';
import { EXIT_KINDS, RESTART_TYPES, shouldRestart, type ExitKind, type RestartType } from '../../supervisors/restart-decision.js';
import { STRATEGIES, restartPlan, type ChildRef, type RestartPlan, type Strategy } from '../../supervisors/strategies.js';

/**
 * Bystanders of every restart type on both sides of the failed child `f`, in start order:
 * a (permanent), b (transient), c (temporary), f, d (permanent), e (transient), g (temporary).
 */
const family = (failed: RestartType): ChildRef[] => [
  { id: 'a', restart: 'permanent' },
  { id: 'b', restart: 'transient' },
  { id: 'c', restart: 'temporary' },
  { id: 'f', restart: failed },
  { id: 'd', restart: 'permanent' },
  { id: 'e', restart: 'transient' },
  { id: 'g', restart: 'temporary' },
];

/** The plan of each strategy when `f` is restarted, written out by hand. */
const RESTARTED: Record<Strategy, RestartPlan> = {
  one_for_one: { stop: [], start: ['f'], remove: [] },
  simple_one_for_one: { stop: [], start: ['f'], remove: [] },
  one_for_all: { stop: ['g', 'e', 'd', 'c', 'b', 'a'], start: ['a', 'b', 'f', 'd', 'e'], remove: ['c', 'g'] },
  rest_for_one: { stop: ['g', 'e', 'd'], start: ['f', 'd', 'e'], remove: ['g'] },
};

/** Cells of OTP's table where the failed child comes back, written out by hand. */
const COMES_BACK = new Set(['permanent/normal', 'permanent/shutdown', 'permanent/error', 'transient/error']);

const cases = STRATEGIES.flatMap((strategy) =>
  RESTART_TYPES.flatMap((type) =>
    EXIT_KINDS.map((exit) => {
      const back = COMES_BACK.has(`${type}/${exit}`);
      const expected: RestartPlan = back ? RESTARTED[strategy] : { stop: [], start: [], remove: ['f'] };
      const outcome = back ? 'restarts it with its group' : 'removes it and touches nothing else';
      return [strategy, type, exit, outcome, expected] as const;
    }),
  ),
);

describe('restartPlan', () => {
  it.each(cases)('%s: a %s child that exited with %s → %s', (strategy, type, exit, _outcome, expected) => {
    expect(restartPlan(strategy, family(type), 'f', exit)).toEqual(expected);
  });

  it('covers 4 strategies × 3 restart types × 3 exit kinds', () => {
    expect(cases).toHaveLength(36);
    expect(cases.filter(([, , , , plan]) => plan.start.includes('f'))).toHaveLength(16);
  });

  it('restarts only the failed child under one_for_one, leaving its siblings running', () => {
    expect(restartPlan('one_for_one', family('permanent'), 'a', 'error')).toEqual({ stop: [], start: ['a'], remove: [] });
  });

  it('restarts only later siblings under rest_for_one', () => {
    expect(restartPlan('rest_for_one', family('permanent'), 'b', 'error')).toEqual({
      stop: ['g', 'e', 'd', 'f', 'c'],
      start: ['b', 'f', 'd', 'e'],
      remove: ['c', 'g'],
    });
  });

  it('restarts the last child alone under rest_for_one, and every child under one_for_all', () => {
    const children: ChildRef[] = [
      { id: 'source', restart: 'permanent' },
      { id: 'parse', restart: 'permanent' },
      { id: 'sink', restart: 'permanent' },
    ];
    expect(restartPlan('rest_for_one', children, 'sink', 'error')).toEqual({ stop: [], start: ['sink'], remove: [] });
    expect(restartPlan('rest_for_one', children, 'source', 'error')).toEqual({ stop: ['sink', 'parse'], start: ['source', 'parse', 'sink'], remove: [] });
    expect(restartPlan('one_for_all', children, 'sink', 'error')).toEqual({ stop: ['parse', 'source'], start: ['source', 'parse', 'sink'], remove: [] });
  });

  it('restarts an only child under every strategy', () => {
    for (const strategy of STRATEGIES) {
      expect(restartPlan(strategy, [{ id: 'solo', restart: 'transient' }], 'solo', 'error')).toEqual({ stop: [], start: ['solo'], remove: [] });
    }
  });

  it('restarts a transient bystander that one_for_all took down, but removes a temporary one', () => {
    const children: ChildRef[] = [
      { id: 'x', restart: 'transient' },
      { id: 'y', restart: 'temporary' },
      { id: 'z', restart: 'permanent' },
    ];
    expect(restartPlan('one_for_all', children, 'z', 'shutdown')).toEqual({ stop: ['y', 'x'], start: ['x', 'z'], remove: ['y'] });
  });

  it('plans one_for_all over 1000 children: all stopped in reverse, all started in order', () => {
    const children: ChildRef[] = Array.from({ length: 1_000 }, (_, i) => ({ id: `c${i}`, restart: 'permanent' }));
    const plan = restartPlan('one_for_all', children, 'c500', 'error');
    expect(plan.start).toEqual(children.map((c) => c.id));
    expect(plan.stop).toEqual(children.map((c) => c.id).filter((id) => id !== 'c500').reverse());
    expect(plan.remove).toEqual([]);
  });

  it('does not change the children it is given', () => {
    const children = Object.freeze(family('permanent').map((c) => Object.freeze(c)));
    restartPlan('one_for_all', children, 'f', 'error');
    expect(children).toEqual(family('permanent'));
  });

  it('throws CHILD_UNKNOWN naming the id when the failed child is not among the children', () => {
    let thrown: unknown;
    try {
      restartPlan('one_for_one', family('permanent'), 'nobody', 'error');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SteadfastError);
    expect(isSteadfastError(thrown, 'CHILD_UNKNOWN')).toBe(true);
    expect((thrown as SteadfastError).message).toBe('child "nobody" is not among the children (a, b, c, f, d, e, g)');
  });

  it('throws CHILD_UNKNOWN for a supervisor without children, and shortens a long list of them', () => {
    expect(() => restartPlan('one_for_all', [], 'a', 'error')).toThrow('child "a" is not among the children ()');
    const many: ChildRef[] = Array.from({ length: 12 }, (_, i) => ({ id: `w${i}`, restart: 'permanent' }));
    expect(() => restartPlan('rest_for_one', many, 'w99', 'error')).toThrow('(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, … (12))');
  });

  it('lists every strategy once, in the documented order', () => {
    expect(STRATEGIES).toEqual(['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one']);
    expect(Object.isFrozen(STRATEGIES)).toBe(true);
  });
});

interface Scenario {
  strategy: Strategy;
  exit: ExitKind;
  children: ChildRef[];
  failed: ChildRef;
  plan: RestartPlan;
}

describe('restartPlan properties', () => {
  const scenario: fc.Arbitrary<Scenario> = fc
    .record({
      strategy: fc.constantFrom(...STRATEGIES),
      exit: fc.constantFrom<ExitKind>(...EXIT_KINDS),
      children: fc.uniqueArray(
        fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), restart: fc.constantFrom<RestartType>(...RESTART_TYPES) }),
        { minLength: 1, maxLength: 12, selector: (child) => child.id },
      ),
      pick: fc.nat(),
    })
    .map(({ strategy, exit, children, pick }) => {
      const failed = children[pick % children.length] as ChildRef;
      return { strategy, exit, children, failed, plan: restartPlan(strategy, children, failed.id, exit) };
    });
  const run = (check: (s: Scenario) => void): void => {
    fc.assert(fc.property(scenario, check), { numRuns: 2_000 });
  };

  it('never starts a temporary child', () => {
    run(({ children, plan }) => {
      const temporary = new Set(children.filter((c) => c.restart === 'temporary').map((c) => c.id));
      expect(plan.start.filter((id) => temporary.has(id))).toEqual([]);
    });
  });

  it('only names known children, each at most once per list', () => {
    run(({ children, plan }) => {
      const known = new Set(children.map((c) => c.id));
      for (const list of [plan.stop, plan.start, plan.remove]) {
        expect(list.every((id) => known.has(id))).toBe(true);
        expect(new Set(list).size).toBe(list.length);
      }
    });
  });

  it('starts the failed child exactly when shouldRestart says so, and removes it otherwise', () => {
    run(({ failed, exit, plan }) => {
      expect(plan.start.includes(failed.id)).toBe(shouldRestart(failed.restart, exit));
      expect(plan.remove.includes(failed.id)).toBe(!shouldRestart(failed.restart, exit));
      expect(plan.stop.includes(failed.id)).toBe(false);
    });
  });

  it('stops in reverse start order and starts in start order', () => {
    run(({ children, plan }) => {
      const order = children.map((c) => c.id);
      expect([...plan.stop].reverse()).toEqual(order.filter((id) => plan.stop.includes(id)));
      expect(plan.start).toEqual(order.filter((id) => plan.start.includes(id)));
      expect(plan.remove).toEqual(order.filter((id) => plan.remove.includes(id)));
      expect([...plan.stop].reverse().filter((id) => plan.start.includes(id))).toEqual(plan.start.filter((id) => plan.stop.includes(id)));
    });
  });

  it('either restarts or removes every child it stops, never both', () => {
    run(({ plan }) => {
      for (const id of plan.stop) expect(plan.start.includes(id) !== plan.remove.includes(id)).toBe(true);
      expect(plan.start.filter((id) => plan.remove.includes(id))).toEqual([]);
    });
  });

  it('touches exactly the children its strategy names', () => {
    run(({ strategy, children, failed, exit, plan }) => {
      const touched = new Set([...plan.stop, ...plan.start, ...plan.remove]);
      const at = children.indexOf(failed);
      let expected: string[];
      if (!shouldRestart(failed.restart, exit) || strategy === 'one_for_one' || strategy === 'simple_one_for_one') expected = [failed.id];
      else if (strategy === 'one_for_all') expected = children.map((c) => c.id);
      else expected = children.slice(at).map((c) => c.id);
      expect([...touched].sort()).toEqual(expected.sort());
    });
  });
});
