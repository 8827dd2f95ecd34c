// Which partitions each live member should own: balanced (counts differ by at most one), and
// sticky (a partition stays with a live owner whenever balance allows), so that a member joining
// or leaving moves as few partitions as can be moved. Pure; every member computes the same answer.
import { ConfigError } from './errors.js';
import { fnv1a32 } from './fnv1a.js';

/** The input of {@link assignPartitions}. */
export interface AssignmentInput {
  /** The live members' ids (order and duplicates do not matter). */
  members: readonly string[];
  /** How many partitions, numbered 0 … partitions − 1. */
  partitions: number;
  /** Who owns each partition now (index = partition; `undefined` or a dead member: nobody). */
  current?: ReadonlyArray<string | undefined>;
}

/**
 * The owner each partition should have (index = partition); `undefined` only when no member lives.
 * Each member gets ⌊P/M⌋ or ⌈P/M⌉ partitions; the larger shares go to the members that hold the
 * most now (ties by id); each member keeps as many of its current partitions as its share allows
 * (the lowest-numbered first); the rest go, partition by partition, to the member with room that
 * ranks highest for it by rendezvous hashing — so that even without `current` the answer is stable.
 */
export function assignPartitions(input: AssignmentInput): Array<string | undefined> {
  const { partitions } = input;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 65_536) throw new ConfigError('partitions', partitions, 'must be an integer in [1, 65536]');
  if (!Array.isArray(input.members) || input.members.some((m) => typeof m !== 'string' || m.length === 0)) {
    throw new ConfigError('members', input.members, 'must be an array of non-empty strings');
  }
  const members = [...new Set(input.members)].sort();
  const owners: Array<string | undefined> = new Array<string | undefined>(partitions).fill(undefined);
  if (members.length === 0) return owners;
  const live = new Set(members);
  const current = input.current ?? [];
  const held = new Map<string, number[]>(members.map((m) => [m, []]));
  for (let p = 0; p < partitions; p++) {
    const owner = current[p];
    if (owner !== undefined && live.has(owner)) held.get(owner)?.push(p);
  }
  const base = Math.floor(partitions / members.length);
  const larger = partitions % members.length;
  const byHolding = [...members].sort((a, b) => (held.get(b)?.length ?? 0) - (held.get(a)?.length ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  const room = new Map<string, number>(byHolding.map((m, i) => [m, base + (i < larger ? 1 : 0)]));
  for (const member of members) {
    for (const p of held.get(member) ?? []) {
      if ((room.get(member) as number) === 0) break;
      owners[p] = member;
      room.set(member, (room.get(member) as number) - 1);
    }
  }
  for (let p = 0; p < partitions; p++) {
    if (owners[p] !== undefined) continue;
    let best: string | undefined;
    let bestRank = -1;
    for (const member of members) {
      if ((room.get(member) as number) === 0) continue;
      const rank = fnv1a32(`${member}\u0000${p}`);
      if (rank > bestRank) {
        best = member;
        bestRank = rank;
      }
    }
    owners[p] = best;
    room.set(best as string, (room.get(best as string) as number) - 1);
  }
  return owners;
}

/** The partitions `member` owns in an assignment, in order. */
export function partitionsOf(owners: ReadonlyArray<string | undefined>, member: string): number[] {
  const mine: number[] = [];
  owners.forEach((owner, p) => {
    if (owner === member) mine.push(p);
  });
  return mine;
}
