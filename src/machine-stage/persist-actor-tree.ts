import type { AnyActorRef } from 'xstate';
import { systemClock, type Clock } from '../core/clock.js';
import { MachinePersistError } from './machine-errors.js';
import {
  PERSISTED_ACTOR_TREE_FORMAT,
  describePath,
  pathKey,
  type ActorPath,
  type PendingInvocation,
  type PersistedActorTree,
  type PersistedDelayedEvent,
} from './persisted-actor-tree.js';
import { hasEffects, invocationId, isMachineLogic, trackerOf, type ActorInternals, type SystemInternals } from './tree-tracker.js';

/** Options of {@link persistActorTree}. */
export interface PersistActorTreeOptions {
  /** The time the remaining delays are measured from (default: the tree's clock, or the process's). */
  now?: number;
  /** The clock of an actor not made by `restoreActorTree` (default: the process clock, which XState's own `startedAt` uses). */
  clock?: Pick<Clock, 'now'>;
}

/**
 * Persists a whole actor tree as JSON-safe data: the root's persisted snapshot (children,
 * spawned or invoked, nest inside it with their `src` and `systemId`), every pending delayed event
 * with its absolute deadline, and the invocations that had not settled with their stable ids.
 * Throws MACHINE_NOT_PERSISTABLE naming the actor when a child was given inline logic (XState could
 * not restore it) or a delayed event is aimed at an actor outside the tree.
 *
 * @example
 * const tree = persistActorTree(actor);          // store it; JSON.stringify works
 * const again = restoreActorTree(machine, tree, { timers: 'deadline' }).start();
 */
export function persistActorTree(actor: AnyActorRef, options: PersistActorTreeOptions = {}): PersistedActorTree {
  const system = actor.system as unknown as SystemInternals;
  const tracker = trackerOf(system);
  const now = options.now ?? (options.clock ?? tracker?.clock ?? systemClock).now();
  const scheduled = Object.values(system.getSnapshot()._scheduledEvents);
  const paths = scheduled.length > 0 ? new Map<AnyActorRef, ActorPath>() : undefined;
  const invocations: PendingInvocation[] = [];
  let actors = 0;
  const visit = (ref: AnyActorRef, path: ActorPath): void => {
    actors++;
    paths?.set(ref, path);
    const internals = ref as unknown as ActorInternals;
    if (path.length > 0 && typeof internals.src !== 'string') throw inlineChild(path);
    const snapshot = ref.getSnapshot() as { status: string; children?: Record<string, AnyActorRef> };
    if (isMachineLogic(internals.logic)) {
      const children = snapshot.children;
      if (children !== undefined) for (const id in children) visit(children[id] as AnyActorRef, [...path, id]);
    } else if (path.length > 0 && snapshot.status === 'active' && hasEffects(internals.logic)) {
      invocations.push({ invocationId: invocationId(ref) ?? `${pathKey(path)}#0`, path, src: internals.src as string });
    }
  };
  visit(actor, []);
  const delayed: PersistedDelayedEvent[] = [];
  for (const entry of scheduled) {
    const source = paths?.get(entry.source);
    const target = paths?.get(entry.target);
    if (source === undefined || target === undefined) {
      const who = source === undefined ? `its source "${entry.source.id}"` : `its target "${entry.target.id}"`;
      throw new MachinePersistError(source === undefined ? entry.source.id : entry.target.id, `delayed event "${entry.event.type}" cannot be persisted: ${who} is not an actor of this tree`);
    }
    const deadline = entry.startedAt + entry.delay;
    delayed.push({
      id: entry.id,
      event: entry.event,
      source,
      target,
      delay: tracker?.fullDelayOf(entry) ?? entry.delay,
      deadline,
      remaining: Math.max(0, deadline - now),
    });
  }
  return {
    format: PERSISTED_ACTOR_TREE_FORMAT,
    root: actor.getPersistedSnapshot(),
    delayed,
    invocations,
    invocationSeq: tracker?.invocationSeq ?? 0,
    actors,
    persistedAt: now,
  };
}

function inlineChild(path: ActorPath): MachinePersistError {
  const where = describePath(path);
  return new MachinePersistError(
    where,
    `actor ${where} (id "${path[path.length - 1] as string}") was given inline logic, which XState cannot restore: register its logic by key in setup({ actors }) and spawn or invoke it by that key`,
  );
}
