import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordRestart, restartBudget, type BudgetNode } from '../../src/core/intensity.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** Records restarts at `times` one after the other; returns the result of every step. */
function replay(times: readonly number[], maxRestarts: number, withinMs: number): Array<{ window: number[]; exceeded: boolean }> {
  const steps: Array<{ window: number[]; exceeded: boolean }> = [];
  let window: number[] = [];
  for (const now of times) {
    const step = recordRestart(window, now, maxRestarts, withinMs);
    steps.push(step);
    window = step.window;
  }
  return steps;
}

const exceededAt = (times: readonly number[], maxRestarts: number, withinMs: number): boolean[] =>
  replay(times, maxRestarts, withinMs).map((step) => step.exceeded);

describe('recordRestart', () => {
  it('tolerates exactly maxRestarts restarts within the period (just under the intensity)', () => {
    expect(exceededAt([0, 100, 200], 3, 1_000)).toEqual([false, false, false]);
    expect(replay([0, 100, 200], 3, 1_000)[2]?.window).toEqual([0, 100, 200]);
  });

  it('exceeds at one restart more than maxRestarts within the period', () => {
    expect(exceededAt([0, 100, 200, 300], 3, 1_000)).toEqual([false, false, false, true]);
  });

  it('lets old restarts slide out of the window', () => {
    const steps = replay([0, 100, 200, 1_101], 3, 1_000);
    expect(steps[3]).toEqual({ window: [200, 1_101], exceeded: false });
  });

  it('still counts a restart exactly withinMs ago, as OTP does (Restart >= Now - Period)', () => {
    expect(recordRestart([0], 1_000, 1, 1_000)).toEqual({ window: [0, 1_000], exceeded: true });
    expect(recordRestart([0], 1_001, 1, 1_000)).toEqual({ window: [1_001], exceeded: false });
  });

  it('counts restarts at the same instant one by one', () => {
    expect(exceededAt([5, 5, 5], 2, 1_000)).toEqual([false, false, true]);
    expect(replay([5, 5, 5], 2, 1_000)[2]?.window).toEqual([5, 5, 5]);
  });

  it('exceeds at the first restart when maxRestarts is 0', () => {
    expect(recordRestart([], 42, 0, 1_000)).toEqual({ window: [42], exceeded: true });
  });

  it('with withinMs 0 only counts restarts at the same millisecond', () => {
    expect(exceededAt([0, 1, 2, 2], 1, 0)).toEqual([false, false, false, true]);
  });

  it('keeps at most maxRestarts + 1 timestamps, the newest', () => {
    const steps = replay([1, 2, 3, 4, 5, 6, 7], 2, 1_000);
    for (const step of steps) expect(step.window.length).toBeLessThanOrEqual(3);
    expect(steps[6]).toEqual({ window: [5, 6, 7], exceeded: true });
  });

  it('keeps exceeding while restarts keep coming faster than the intensity allows', () => {
    expect(exceededAt([0, 10, 20, 30, 40], 1, 100)).toEqual([false, true, true, true, true]);
  });

  it('recovers once the restarts spread out again', () => {
    expect(exceededAt([0, 10, 500, 1_000, 1_500], 1, 100)).toEqual([false, true, false, false, false]);
  });

  it('holds at the limit with 10× more restarts than usual: 1000 tolerated, the 1001st exceeds', () => {
    const times = Array.from({ length: 1_001 }, (_, i) => i);
    const steps = replay(times, 1_000, 60_000);
    expect(steps[999]?.exceeded).toBe(false);
    expect(steps[1_000]?.exceeded).toBe(true);
    expect(steps[1_000]?.window.length).toBe(1_001);
  });

  it('does not change the window it is given', () => {
    const window = Object.freeze([100, 200]);
    const result = recordRestart(window, 1_150, 5, 1_000);
    expect(window).toEqual([100, 200]);
    expect(result.window).toEqual([200, 1_150]);
    expect(result.window).not.toBe(window);
  });

  it('keeps the window ascending when the clock stepped back, counting the newer restart', () => {
    expect(recordRestart([100, 300], 200, 5, 1_000)).toEqual({ window: [100, 200, 300], exceeded: false });
    expect(recordRestart([300], 200, 1, 1_000)).toEqual({ window: [200, 300], exceeded: true });
  });

  it('agrees with a naive model that keeps every timestamp and counts those inside the period', () => {
    const scenario = fc.record({
      gaps: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 60 }),
      start: fc.integer({ min: -1e9, max: 1e9 }),
      maxRestarts: fc.integer({ min: 0, max: 6 }),
      withinMs: fc.integer({ min: 0, max: 1_000 }),
    });
    fc.assert(
      fc.property(scenario, ({ gaps, start, maxRestarts, withinMs }) => {
        const times: number[] = [];
        for (const gap of gaps) times.push((times.at(-1) ?? start) + gap);
        const steps = replay(times, maxRestarts, withinMs);
        times.forEach((now, i) => {
          const inside = times.slice(0, i + 1).filter((at) => at >= now - withinMs);
          expect(steps[i]?.exceeded).toBe(inside.length > maxRestarts);
          expect(steps[i]?.window).toEqual(inside.slice(-(maxRestarts + 1)));
        });
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps the newest maxRestarts + 1 timestamps inside the period, ascending, whatever time it is told', () => {
    const time = fc.integer({ min: -1_000, max: 1_000 });
    fc.assert(
      fc.property(fc.array(time, { maxLength: 12 }), time, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 500 }), (unsorted, now, maxRestarts, withinMs) => {
        const window = [...unsorted].sort((a, b) => a - b);
        const result = recordRestart(window, now, maxRestarts, withinMs);
        const inside = [...window.filter((at) => at >= now - withinMs), now].sort((a, b) => a - b);
        expect(result.window).toEqual(inside.slice(-(maxRestarts + 1)));
        expect(result.window.length).toBeLessThanOrEqual(maxRestarts + 1);
        expect(result.exceeded).toBe(window.filter((at) => at >= now - withinMs).length + 1 > maxRestarts);
      }),
      { numRuns: 1_000 },
    );
  });
});

const sup = (maxRestarts: number, ...children: BudgetNode[]): BudgetNode => ({ maxRestarts, children });

describe('restartBudget', () => {
  it('is the own maxRestarts of a supervisor without supervisor children', () => {
    expect(restartBudget(sup(3))).toBe(3);
    expect(restartBudget(sup(0))).toBe(0);
  });

  it('multiplies by (m + 1) for one level: a parent of intensity 3 restarts a child of intensity 5 three times', () => {
    expect(restartBudget(sup(3, sup(5)))).toBe(5 * 4);
  });

  it('multiplies along three levels: m1 · (m2 + 1) · (m3 + 1)', () => {
    expect(restartBudget(sup(2, sup(3, sup(4))))).toBe(4 * (3 + 1) * (2 + 1));
  });

  it('takes the worst path of a wide tree, where the deepest path wins', () => {
    const shallow = Array.from({ length: 20 }, () => sup(3));
    const deep = sup(1, sup(1, sup(1, sup(1))));
    // 20 leaves of 3 under a root of 1: 3 · 2 = 6; the deep chain: 1 · 2 · 2 · 2 · 2 = 16.
    expect(restartBudget(sup(1, ...shallow, deep))).toBe(16);
    expect(restartBudget(sup(1, ...shallow))).toBe(6);
  });

  it('takes the wider intensity when a shallow path beats a deep one', () => {
    expect(restartBudget(sup(1, sup(100), sup(1, sup(1))))).toBe(200);
  });

  it("counts an inner supervisor's own workers: a parent of 3 above a child of 0 still restarts its workers 3 times", () => {
    expect(restartBudget(sup(3, sup(0)))).toBe(3);
    expect(restartBudget(sup(3, sup(0, sup(0))))).toBe(3);
  });

  it('saturates at Number.MAX_SAFE_INTEGER instead of losing precision', () => {
    const chain = Array.from({ length: 60 }).reduce<BudgetNode>((child) => sup(1_000, child), sup(1_000));
    expect(restartBudget(chain)).toBe(MAX);
    expect(restartBudget(sup(MAX))).toBe(MAX);
    expect(restartBudget(sup(MAX, sup(1)))).toBe(MAX);
    expect(restartBudget(sup(1, sup(MAX)))).toBe(MAX);
    expect(restartBudget(sup(2 ** 26, sup(2 ** 26)))).toBe(2 ** 26 * (2 ** 26 + 1));
  });

  it('walks a tree 100 000 levels deep without overflowing the stack', () => {
    let tree = sup(7);
    for (let i = 0; i < 100_000; i++) tree = sup(0, tree);
    expect(restartBudget(tree)).toBe(7);
  });

  it('equals the exact product along a chain, capped (checked with bigint)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 12 }), (intensities) => {
        // intensities[0] is the root, the last one the supervisor of the workers.
        const tree = intensities.slice(0, -1).reduceRight<BudgetNode>((child, m) => sup(m, child), sup(intensities.at(-1) ?? 0));
        let worst = 0n;
        intensities.forEach((m, depth) => {
          const above = intensities.slice(0, depth).reduce((product, k) => product * BigInt(k + 1), 1n);
          if (BigInt(m) * above > worst) worst = BigInt(m) * above;
        });
        expect(restartBudget(tree)).toBe(worst > BigInt(MAX) ? MAX : Number(worst));
      }),
      { numRuns: 500 },
    );
  });

  it('never shrinks when a supervisor child is added', () => {
    const intensity = fc.integer({ min: 0, max: 20 });
    const node: fc.Arbitrary<BudgetNode> = fc.letrec<{ node: BudgetNode }>((tie) => ({
      node: fc.oneof(
        { maxDepth: 5, depthIdentifier: 'tree' },
        fc.record({ maxRestarts: intensity, children: fc.constant([]) }),
        fc.record({ maxRestarts: intensity, children: fc.array(tie('node'), { maxLength: 3 }) }),
      ),
    })).node;
    fc.assert(
      fc.property(node, node, (tree, extra) => {
        expect(restartBudget({ ...tree, children: [...tree.children, extra] })).toBeGreaterThanOrEqual(restartBudget(tree));
        expect(restartBudget(tree)).toBeGreaterThanOrEqual(tree.maxRestarts);
      }),
    );
  });
});
