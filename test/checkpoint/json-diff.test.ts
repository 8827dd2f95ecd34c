import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonDiff, diffJson, formatJsonPath } from '../../src/checkpoint/json-diff.js';

// JSON values with awkward keys too: "__proto__", empty, non-identifiers
const key = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '', 'a b', '0'));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.array(tie('value'), { maxLength: 5 }), fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true })),
})).value;

describe('diffJson', () => {
  it('finds no change between a value and itself (property)', () => {
    fc.assert(
      fc.property(json, (a) => {
        expect(diffJson(a, a)).toEqual([]);
        expect(diffJson(a, structuredClone(a))).toEqual([]);
      }),
    );
  });

  it('reports changes that turn a into b when applied, leaving a as it was (property)', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const before = structuredClone(a);
        const changes = diffJson(a, b);
        expect(applyJsonDiff(a, changes)).toEqual(b);
        expect(a).toEqual(before);
        expect(changes.length === 0).toBe(diffJson(b, a).length === 0);
      }),
      { numRuns: 500 },
    );
  });

  it('reports changes that turn a into b for small edits of one value (property)', () => {
    // Random pairs are mostly unrelated; an edited copy exercises nested paths.
    const edited = json.chain((a) => fc.tuple(fc.constant(a), fc.jsonValue({ maxDepth: 2 })).map(([x, extra]) => [x, { wrap: x, extra }] as const));
    fc.assert(
      fc.property(edited, ([a, b]) => {
        expect(applyJsonDiff({ wrap: a }, diffJson({ wrap: a }, b))).toEqual(b);
      }),
    );
  });

  it('names added, removed and changed paths with old and new values', () => {
    const a = { count: 2, items: ['x', 'y', 'z'], meta: { owner: 'ann', tags: { hot: true } }, gone: 1 };
    const b = { count: 3, items: ['x', 'Y'], meta: { owner: 'ann', tags: { hot: true, new: 'yes' } }, fresh: [1] };
    expect(diffJson(a, b)).toEqual([
      { kind: 'changed', path: ['count'], from: 2, to: 3 },
      { kind: 'changed', path: ['items', 1], from: 'y', to: 'Y' },
      { kind: 'removed', path: ['items', 2], value: 'z' },
      { kind: 'added', path: ['meta', 'tags', 'new'], value: 'yes' },
      { kind: 'removed', path: ['gone'], value: 1 },
      { kind: 'added', path: ['fresh'], value: [1] },
    ]);
  });

  it('compares different kinds as a whole, and a changed root by the empty path', () => {
    expect(diffJson({ a: [1] }, { a: { 0: 1 } })).toEqual([{ kind: 'changed', path: ['a'], from: [1], to: { 0: 1 } }]);
    expect(diffJson(1, '1')).toEqual([{ kind: 'changed', path: [], from: 1, to: '1' }]);
    expect(diffJson(null, {})).toEqual([{ kind: 'changed', path: [], from: null, to: {} }]);
  });
});

describe('formatJsonPath', () => {
  it('writes identifiers with dots, indices in brackets and other keys quoted', () => {
    expect(formatJsonPath([])).toBe('(root)');
    expect(formatJsonPath(['count', 'items', 3, 'a b', '<b>'])).toBe('count.items[3]["a b"]["<b>"]');
    expect(formatJsonPath([0, 'x'])).toBe('[0].x');
  });
});
