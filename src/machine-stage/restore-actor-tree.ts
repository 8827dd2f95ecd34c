import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type InputFrom, type InspectionEvent } from 'xstate';
import { actorClock, systemClock, type Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { oneOf } from '../core/validate.js';
import { MachineRestoreError } from './machine-errors.js';
import { checkPersistedTree } from './persisted-tree-check.js';
import { TIMER_POLICIES, describePath, type PersistedActorTree, type PersistedDelayedEvent, type TimerPolicy } from './persisted-actor-tree.js';
import { TreeTracker, type SystemInternals } from './tree-tracker.js';

/** Options of {@link restoreActorTree}. */
export interface RestoreActorTreeOptions<TMachine extends AnyStateMachine> {
  /** Time and timers of the actor's delayed events (default: the process clock). */
  clock?: Pick<Clock, 'now' | 'setTimer'>;
  /** What the tree's pending delayed events become (default `'deadline'`). */
  timers?: TimerPolicy;
  /** The machine's input: used only when there is nothing to restore (the persisted context wins otherwise). */
  input?: InputFrom<TMachine>;
  /** The time the deadlines are measured against when the actor starts (default: `clock.now()` then). */
  now?: number;
  /** Observes XState's inspection events of the whole tree, as `createActor`'s `inspect` (it costs: XState then describes every step). */
  inspect?: (event: InspectionEvent) => void;
}

/**
 * Rebuilds an actor tree from {@link PersistedActorTree} (or a fresh one from the machine's
 * initial state when `persisted` is undefined): children spawned or invoked by key, with their
 * `systemId`s, come back; entry actions of the restored states do not run again; invocations
 * that had not settled run again when the actor starts (at-least-once, with their stable
 * `invocationId`); each pending delayed event is scheduled again, once, when the actor starts, as
 * `timers` says. The actor is returned NOT started: attach observers, then call `start()`. It can be
 * persisted again with `persistActorTree`, any number of times. Throws MACHINE_RESTORE_FAILED
 * naming the actor when the data is not a persisted tree or the machine lacks a child's logic.
 *
 * @example
 * const actor = restoreActorTree(machine, JSON.parse(text), { clock, timers: 'remaining' });
 * actor.subscribe({ error: onCrash });
 * actor.start();
 */
export function restoreActorTree<TMachine extends AnyStateMachine>(
  machine: TMachine,
  persisted: PersistedActorTree | undefined,
  options: RestoreActorTreeOptions<TMachine> = {},
): Actor<TMachine> {
  const clock = options.clock ?? systemClock;
  const policy = oneOf('options.timers', options.timers ?? 'deadline', TIMER_POLICIES);
  if (persisted !== undefined) checkPersistedTree(persisted);
  const tracker = new TreeTracker(clock, persisted?.invocationSeq ?? 0, persisted?.invocations ?? []);
  // XState revives actor references in the context it is given in place: give it a copy, so that
  // the caller's tree stays data (and can be restored again).
  const snapshot = persisted === undefined ? undefined : structuredClone(persisted.root);
  const timers = actorClock(clock);
  const actor = createActor(machine, {
    ...(timers === undefined ? {} : { clock: timers }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    ...(snapshot === undefined ? (options.input === undefined ? {} : { input: options.input }) : { snapshot: snapshot as never }),
  } as never) as Actor<TMachine>;
  const system = actor.system as unknown as SystemInternals;
  tracker.install(system);
  if (persisted === undefined) return actor;
  const restored = actor.getSnapshot() as { status: string; error?: unknown };
  if (restored.status === 'error' && (persisted.root as { status?: unknown }).status !== 'error') {
    throw new MachineRestoreError('root', `the persisted tree could not be restored into machine "${machine.id}": ${messageOf(restored.error)}`, restored.error);
  }
  checkChildren(persisted.root, actor, [], machine.id);
  tracker.nameRestored(actor);
  const pending = persisted.delayed.map((delayed) => ({ delayed, source: actorAt(actor, delayed.source, delayed), target: actorAt(actor, delayed.target, delayed) }));
  if (pending.length > 0) {
    const start = system.start;
    // Scheduled after XState's own start of the system: scheduling before it would arm each timer twice.
    system.start = () => {
      start();
      const now = options.now ?? clock.now();
      for (const { delayed, source, target } of pending) {
        tracker.reschedule(system, source, target, delayed.event, delayOf(delayed, policy, now), delayed.id, delayed.delay);
      }
    };
  }
  return actor;
}

/** How long a restored delayed event waits, per policy. */
function delayOf(delayed: PersistedDelayedEvent, policy: TimerPolicy, now: number): number {
  if (policy === 'restart') return delayed.delay;
  if (policy === 'remaining') return delayed.remaining;
  return Math.max(0, delayed.deadline - now);
}

/** Every persisted child came back: XState silently drops a child whose logic it cannot find. */
function checkChildren(persisted: unknown, live: AnyActorRef, path: string[], machineId: string): void {
  const children = (persisted as { children?: Record<string, { src: string; snapshot: unknown }> }).children;
  if (children === undefined) return;
  const liveChildren = (live.getSnapshot() as { children?: Record<string, AnyActorRef> }).children ?? {};
  for (const id in children) {
    const child = children[id] as { src: string; snapshot: unknown };
    const ref = liveChildren[id];
    const at = [...path, id];
    if (ref === undefined) {
      throw new MachineRestoreError(describePath(at), `actor ${describePath(at)} could not be restored: machine "${machineId}" has no logic "${child.src}" in setup({ actors })`);
    }
    checkChildren(child.snapshot, ref, at, machineId);
  }
}

function actorAt(root: AnyActorRef, path: readonly string[], delayed: PersistedDelayedEvent): AnyActorRef {
  let ref: AnyActorRef | undefined = root;
  for (const id of path) ref = (ref?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)?.children?.[id];
  if (ref === undefined) throw new MachineRestoreError(describePath(path), `delayed event "${delayed.event.type}" cannot be restored: actor ${describePath(path)} is not in the restored tree`);
  return ref;
}
