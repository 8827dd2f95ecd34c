// The children of one supervisor, by id in start order: what the runtime knows of each (its spec,
// its running child, where it is, its backoff attempt and restarts). Not in the machine's snapshot:
// XState copies an actor's children on every spawn, so a large set would cost quadratic time.
import type { ChildRef } from '../../supervisors/strategies.js';
import type { Child, ChildDescription, ResolvedChildSpec } from './child.js';

/** Where a child is in its supervisor. */
export type EntryStatus = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

/** One child of a supervisor, across its incarnations. */
export interface Entry {
  id: string;
  spec: ResolvedChildSpec;
  args: unknown;
  child: Child | undefined;
  status: EntryStatus;
  /** Backoff attempt of the next restart. */
  attempt: number;
  startedAt: number;
  restarts: number;
  /** Bumped on every start, so that a late exit report of an old incarnation is ignored. */
  generation: number;
}

/** A supervisor's children, by id, in start order. */
export class ChildRegistry extends Map<string, Entry> {
  /** Every child as a strategy sees it (id and restart type), in start order. */
  refs(): ChildRef[] {
    return [...this.values()].map((e) => ({ id: e.id, restart: e.spec.restart }));
  }

  /** Children running, and waiting for a restart. */
  tally(): { running: number; restarting: number } {
    let running = 0;
    let restarting = 0;
    for (const entry of this.values()) {
      if (entry.status === 'running') running++;
      else if (entry.status === 'restarting') restarting++;
    }
    return { running, restarting };
  }

  /** Each child's description (its own, for a child that describes itself: a nested supervisor), with its restarts. */
  descriptions(): ChildDescription[] {
    return [...this.values()].map((entry) => {
      const own = entry.child?.describe?.();
      return own === undefined ? { id: entry.id, type: entry.spec.type, state: entry.status, restarts: entry.restarts } : { ...own, id: entry.id, restarts: entry.restarts };
    });
  }
}

/** A child not started yet. */
export function newEntry(spec: ResolvedChildSpec, args: unknown): Entry {
  return { id: spec.id, spec, args, child: undefined, status: 'stopped', attempt: -1, startedAt: 0, restarts: 0, generation: 0 };
}
