import type { AnyActorRef } from 'xstate';
import { pathKey } from './persisted-actor-tree.js';
import { hasEffects, isMachineLogic, type ActorInternals, type SystemInternals } from './tree-tracker.js';

/** What an actor tree is doing now, for stats and for knowing when it is idle. */
export interface ActorTreeSummary {
  /** The root's status: `'active'`, `'done'`, `'error'` or `'stopped'`. */
  status: string;
  /** The root's state value. */
  value: unknown;
  /** Actors below the root (spawned and invoked, at any depth). */
  children: number;
  /** Pending delayed events: their type, the actor they go to (`root/<id>/…`) and when they are due (epoch ms of the tree's clock for a tree `restoreActorTree` made, of `Date.now()` for one XState made alone). */
  delayed: Array<{ type: string; target: string; dueAt: number }>;
  /** Invoked or spawned actors with effects (promises, callbacks, observables) that have not settled. */
  invocations: number;
}

/**
 * A cheap summary of a live actor tree (no persisted snapshot is made): its state, how many
 * children it has, its pending delayed events and unsettled invocations. A tree with no pending
 * delayed event and no invocation has nothing left to do on its own.
 *
 * @example
 * const { delayed, invocations } = summarizeActorTree(actor);
 * if (delayed.length === 0 && invocations === 0) await finish();
 */
export function summarizeActorTree(actor: AnyActorRef): ActorTreeSummary {
  const paths = new Map<AnyActorRef, string>();
  let children = 0;
  let invocations = 0;
  const visit = (ref: AnyActorRef, path: string[]): void => {
    paths.set(ref, path.length === 0 ? 'root' : `root/${pathKey(path)}`);
    const internals = ref as unknown as ActorInternals;
    const snapshot = ref.getSnapshot() as { status: string; children?: Record<string, AnyActorRef> };
    if (path.length > 0) children++;
    if (isMachineLogic(internals.logic)) {
      for (const id in snapshot.children ?? {}) visit(snapshot.children?.[id] as AnyActorRef, [...path, id]);
    } else if (path.length > 0 && snapshot.status === 'active' && hasEffects(internals.logic)) {
      invocations++;
    }
  };
  visit(actor, []);
  const system = actor.system as unknown as SystemInternals;
  const delayed = Object.values(system._snapshot._scheduledEvents).map((entry) => ({
    type: entry.event.type,
    target: paths.get(entry.target) ?? entry.target.id,
    dueAt: entry.startedAt + entry.delay,
  }));
  const root = actor.getSnapshot() as { status: string; value?: unknown };
  return { status: root.status, value: root.value, children, delayed, invocations };
}
