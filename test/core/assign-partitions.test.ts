import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignPartitions, partitionsOf } from '../../src/core/assign-partitions.js';

const memberIds = fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 9 });
const partitionCount = fc.integer({ min: 1, max: 64 });

const counts = (owners: Array<string | undefined>, members: readonly string[]): number[] => members.map((m) => partitionsOf(owners, m).length);
const moved = (before: ReadonlyArray<string | undefined>, after: ReadonlyArray<string | undefined>): number[] =>
  after.flatMap((owner, p) => (before[p] !== undefined && owner !== before[p] ? [p] : []));

describe('assignPartitions', () => {
  it('gives every partition to a live member, counts differing by at most one', () => {
    fc.assert(
      fc.property(memberIds, partitionCount, fc.array(fc.option(fc.stringMatching(/^[a-z0-9]{1,6}$/), { nil: undefined }), { maxLength: 64 }), (members, partitions, current) => {
        const owners = assignPartitions({ members, partitions, current });
        expect(owners).toHaveLength(partitions);
        for (const owner of owners) expect(members).toContain(owner);
        const c = counts(owners, members);
        expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
        expect(c.reduce((a, b) => a + b, 0)).toBe(partitions);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same answer whatever the order of the members, and ignores duplicates', () => {
    fc.assert(
      fc.property(memberIds, partitionCount, fc.integer(), (members, partitions, seed) => {
        const shuffled = [...members].sort(() => (seed % 3) - 1);
        expect(assignPartitions({ members: [...shuffled, ...shuffled], partitions })).toEqual(assignPartitions({ members, partitions }));
      }),
      { numRuns: 500 },
    );
  });

  it('when a member joins a balanced group, moves only partitions to it, and only its share', () => {
    fc.assert(
      fc.property(memberIds, partitionCount, fc.stringMatching(/^[A-Z]{1,4}$/), (members, partitions, joiner) => {
        const before = assignPartitions({ members, partitions });
        const after = assignPartitions({ members: [...members, joiner], partitions, current: before });
        const moves = moved(before, after);
        for (const p of moves) expect(after[p]).toBe(joiner);
        expect(moves).toHaveLength(partitionsOf(after, joiner).length);
        const share = partitions / (members.length + 1);
        expect(moves.length).toBeGreaterThanOrEqual(Math.floor(share));
        expect(moves.length).toBeLessThanOrEqual(Math.ceil(share));
      }),
      { numRuns: 1000 },
    );
  });

  it('when a member leaves, moves only the partitions it owned', () => {
    fc.assert(
      fc.property(memberIds.filter((m) => m.length >= 2), partitionCount, fc.nat(), (members, partitions, which) => {
        const before = assignPartitions({ members, partitions });
        const leaver = members[which % members.length] as string;
        const after = assignPartitions({ members: members.filter((m) => m !== leaver), partitions, current: before });
        for (let p = 0; p < partitions; p++) if (before[p] !== leaver) expect(after[p]).toBe(before[p]);
      }),
      { numRuns: 1000 },
    );
  });

  it('changes nothing when the current assignment is already balanced', () => {
    fc.assert(
      fc.property(memberIds, partitionCount, (members, partitions) => {
        const first = assignPartitions({ members, partitions });
        expect(assignPartitions({ members, partitions, current: first })).toEqual(first);
      }),
    );
  });

  it('splits 8 partitions 4 and 4 between two members, and leaves nothing owned with no member', () => {
    const owners = assignPartitions({ members: ['a', 'b'], partitions: 8 });
    expect(counts(owners, ['a', 'b'])).toEqual([4, 4]);
    expect(assignPartitions({ members: [], partitions: 3 })).toEqual([undefined, undefined, undefined]);
  });

  it('refuses bad input with CONFIG_INVALID', () => {
    expect(() => assignPartitions({ members: ['a'], partitions: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'partitions' }));
    expect(() => assignPartitions({ members: [''], partitions: 2 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'members' }));
  });
});
