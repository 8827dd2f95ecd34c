import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../src/core/batch-queue.js';

/** A batch of `n` events numbered from `first`; values and offsets differ so that a mix-up shows. */
function batch(first: number, n: number): [string[], number[]] {
  const values = Array.from({ length: n }, (_, i) => `e${first + i}`);
  const offsets = Array.from({ length: n }, (_, i) => 1000 + first + i);
  return [values, offsets];
}

describe('BatchQueue', () => {
  it('starts empty and takes nothing', () => {
    const q = new BatchQueue<string>();
    expect(q.length).toBe(0);
    expect(q.take(10)).toEqual({ values: [], offsets: [] });
    expect(q.drain()).toEqual({ values: [], offsets: [] });
  });

  it('hands back the pushed arrays themselves when a take is exactly one whole batch', () => {
    const q = new BatchQueue<string>();
    const [values, offsets] = batch(0, 3);
    q.push(values, offsets);
    const taken = q.take(3);
    expect(taken.values).toBe(values);
    expect(taken.offsets).toBe(offsets);
    expect(q.length).toBe(0);
  });

  it('merges queued batches into one take, in order', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(0, 2));
    q.push(...batch(2, 3));
    q.push(...batch(5, 1));
    expect(q.length).toBe(6);
    expect(q.take(100)).toEqual({
      values: ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'],
      offsets: [1000, 1001, 1002, 1003, 1004, 1005],
    });
    expect(q.length).toBe(0);
  });

  it('splits a batch across takes and keeps the remainder at the front', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(0, 5));
    q.push(...batch(5, 2));
    expect(q.take(2)).toEqual({ values: ['e0', 'e1'], offsets: [1000, 1001] });
    expect(q.length).toBe(5);
    expect(q.take(4)).toEqual({ values: ['e2', 'e3', 'e4', 'e5'], offsets: [1002, 1003, 1004, 1005] });
    expect(q.take(4)).toEqual({ values: ['e6'], offsets: [1006] });
    expect(q.length).toBe(0);
  });

  it('copies rather than aliases when a take ends inside a batch', () => {
    const q = new BatchQueue<string>();
    const [values, offsets] = batch(0, 4);
    q.push(values, offsets);
    const first = q.take(2);
    expect(first.values).not.toBe(values);
    expect(values).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(offsets).toEqual([1000, 1001, 1002, 1003]);
  });

  it('ignores empty batches', () => {
    const q = new BatchQueue<string>();
    q.push([], []);
    q.unshift([], []);
    expect(q.length).toBe(0);
    q.push(...batch(0, 1));
    q.push([], []);
    q.push(...batch(1, 1));
    expect(q.take(5)).toEqual({ values: ['e0', 'e1'], offsets: [1000, 1001] });
  });

  it('puts an unshifted batch ahead of everything queued, including a partly taken batch', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(10, 3));
    expect(q.take(1).values).toEqual(['e10']);
    q.unshift(...batch(0, 2));
    expect(q.length).toBe(4);
    expect(q.drain()).toEqual({ values: ['e0', 'e1', 'e11', 'e12'], offsets: [1000, 1001, 1011, 1012] });
  });

  it('reuses the slot of a taken batch when unshifting', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(0, 1));
    q.push(...batch(1, 1));
    q.push(...batch(2, 1));
    expect(q.take(2).values).toEqual(['e0', 'e1']);
    q.unshift(...batch(100, 1));
    q.unshift(...batch(200, 1));
    q.unshift(...batch(300, 1));
    expect(q.drain().values).toEqual(['e300', 'e200', 'e100', 'e2']);
  });

  it('takes nothing when asked for 0 and leaves the queue as it was', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(0, 2));
    expect(q.take(0)).toEqual({ values: [], offsets: [] });
    expect(q.length).toBe(2);
    expect(q.drain().values).toEqual(['e0', 'e1']);
  });

  it('drains everything and is empty afterwards', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(0, 3));
    q.push(...batch(3, 3));
    q.take(1);
    expect(q.drain()).toEqual({ values: ['e1', 'e2', 'e3', 'e4', 'e5'], offsets: [1001, 1002, 1003, 1004, 1005] });
    expect(q.length).toBe(0);
    expect(q.drain()).toEqual({ values: [], offsets: [] });
  });

  it('keeps order through many small batches taken one at a time (compaction of the segment list)', () => {
    const q = new BatchQueue<string>();
    for (let i = 0; i < 500; i++) q.push(...batch(i, 1));
    const seen: string[] = [];
    for (let i = 0; i < 300; i++) seen.push(...q.take(1).values);
    q.unshift(...batch(-1, 1));
    for (let i = 500; i < 600; i++) q.push(...batch(i, 1));
    expect(q.length).toBe(301);
    expect(q.take(1).values).toEqual(['e-1']);
    while (q.length > 0) seen.push(...q.take(7).values);
    expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => `e${i}`));
  });

  type Op =
    | { kind: 'push'; n: number }
    | { kind: 'unshift'; n: number }
    | { kind: 'take'; max: number }
    | { kind: 'drain' };

  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), n: fc.integer({ min: 0, max: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unshift' as const), n: fc.integer({ min: 0, max: 6 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 0, max: 12 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  );

  it('behaves like a plain array under any sequence of push, unshift, take and drain', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new BatchQueue<string>();
        const model: Array<{ value: string; offset: number }> = [];
        let next = 0;
        for (const step of ops) {
          switch (step.kind) {
            case 'push': {
              const [values, offsets] = batch(next, step.n);
              next += step.n;
              q.push(values, offsets);
              model.push(...values.map((value, i) => ({ value, offset: offsets[i] as number })));
              break;
            }
            case 'unshift': {
              const [values, offsets] = batch(next, step.n);
              next += step.n;
              q.unshift(values, offsets);
              model.unshift(...values.map((value, i) => ({ value, offset: offsets[i] as number })));
              break;
            }
            case 'take':
            case 'drain': {
              const expected = model.splice(0, step.kind === 'take' ? step.max : model.length);
              const taken = step.kind === 'take' ? q.take(step.max) : q.drain();
              expect(taken.values).toEqual(expected.map((e) => e.value));
              expect(taken.offsets).toEqual(expected.map((e) => e.offset));
              break;
            }
          }
          expect(q.length).toBe(model.length);
        }
        const rest = q.drain();
        expect(rest.values).toEqual(model.map((e) => e.value));
        expect(rest.offsets).toEqual(model.map((e) => e.offset));
      }),
      { numRuns: 300 },
    );
  });
});

describe('BatchQueue markers', () => {
  it('never takes events past a marker, and hands the marker over once it is at the front', () => {
    const q = new BatchQueue<string>();
    q.push(...batch(0, 3));
    q.pushMark('barrier-1');
    q.push(...batch(3, 2));
    expect(q.length).toBe(5);
    expect(q.marks).toBe(1);
    expect(q.headMark()).toBeUndefined();
    expect(q.beforeMark()).toBe(3);
    expect(q.take(10).values).toEqual(['e0', 'e1', 'e2']);
    expect(q.take(10).values).toEqual([]);
    expect(q.headMark()).toBe('barrier-1');
    expect(q.shiftMark()).toBe('barrier-1');
    expect(q.marks).toBe(0);
    expect(q.shiftMark()).toBeUndefined();
    expect(q.take(10).values).toEqual(['e3', 'e4']);
  });

  it('keeps events put back in front ahead of a marker', () => {
    const q = new BatchQueue<string>();
    q.pushMark('m');
    q.unshift(...batch(0, 2));
    expect(q.headMark()).toBeUndefined();
    expect(q.take(5).values).toEqual(['e0', 'e1']);
    expect(q.shiftMark()).toBe('m');
    expect(q.length).toBe(0);
  });

  it('matches a model list under random pushes, marks, takes and shifts', () => {
    type Step = { kind: 'push'; n: number } | { kind: 'mark' } | { kind: 'take'; max: number } | { kind: 'shift' } | { kind: 'unshift'; n: number };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), n: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('mark' as const) }),
      fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('shift' as const) }),
      fc.record({ kind: fc.constant('unshift' as const), n: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(step as fc.Arbitrary<Step>, { maxLength: 60 }), (steps) => {
        const q = new BatchQueue<string>();
        const model: Array<{ mark: string } | { value: string; offset: number }> = [];
        let next = 0;
        let marks = 0;
        for (const s of steps) {
          if (s.kind === 'push' || s.kind === 'unshift') {
            const [values, offsets] = batch(next, s.n);
            next += s.n;
            const items = values.map((value, i) => ({ value, offset: offsets[i] as number }));
            if (s.kind === 'push') {
              q.push(values, offsets);
              model.push(...items);
            } else {
              q.unshift(values, offsets);
              model.unshift(...items);
            }
          } else if (s.kind === 'mark') {
            const mark = `m${marks++}`;
            q.pushMark(mark);
            model.push({ mark });
          } else if (s.kind === 'take') {
            let end = 0;
            while (end < model.length && end < s.max && !('mark' in (model[end] as object))) end++;
            const expected = model.splice(0, end) as Array<{ value: string; offset: number }>;
            const taken = q.take(s.max);
            expect(taken.values).toEqual(expected.map((e) => e.value));
            expect(taken.offsets).toEqual(expected.map((e) => e.offset));
          } else {
            const head = model[0];
            const expected = head !== undefined && 'mark' in head ? head.mark : undefined;
            if (expected !== undefined) model.shift();
            expect(q.shiftMark()).toBe(expected);
          }
          expect(q.length).toBe(model.filter((e) => !('mark' in e)).length);
          expect(q.marks).toBe(model.filter((e) => 'mark' in e).length);
          const head = model[0];
          expect(q.headMark()).toBe(head !== undefined && 'mark' in head ? head.mark : undefined);
        }
      }),
      { numRuns: 300 },
    );
  });
});
