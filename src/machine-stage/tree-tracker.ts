// What steadfast watches in a live XState system so that a persisted tree can be complete: the
// clock time each delayed event was scheduled at (XState stamps `startedAt` with Date.now(), not
// with the actor's clock), each delayed event's full delay across restores, and a stable id for
// each invocation. It reads XState 5 internals (the system's scheduler); docs/machines.md says which.
import { nanoid } from 'nanoid';
import type { AnyActorRef } from 'xstate';
import type { Clock } from '../core/clock.js';
import { pathKey, type ActorPath, type PendingInvocation } from './persisted-actor-tree.js';

/** One entry of XState's scheduler (`system.getSnapshot()._scheduledEvents`). */
export interface ScheduledEntry {
  id: string;
  event: { type: string; [key: string]: unknown };
  startedAt: number;
  delay: number;
  source: AnyActorRef;
  target: AnyActorRef;
}

type Schedule = (source: AnyActorRef, target: AnyActorRef, event: ScheduledEntry['event'], delay: number, id?: string) => void;

/** The parts of XState's actor system steadfast uses. */
export interface SystemInternals {
  scheduler: { schedule: Schedule };
  getSnapshot(): { _scheduledEvents: Record<string, ScheduledEntry> };
  /** The live record `getSnapshot()` copies (a copy per schedule would make scheduling quadratic). */
  _snapshot: { _scheduledEvents: Record<string, ScheduledEntry> };
  start(): void;
}

/** The parts of an XState actor steadfast uses. */
export interface ActorInternals {
  id: string;
  src: unknown;
  logic: unknown;
  _parent?: AnyActorRef;
}

const trackers = new WeakMap<object, TreeTracker>();
const invocationIds = new WeakMap<AnyActorRef, string>();

/**
 * The invocation id of an invoked or spawned actor (a promise, callback or observable) of a tree
 * made by `restoreActorTree`: `<path>#<n>`, given on first ask (or when the tree is persisted) and
 * the same after every restore of the tree, so an effect that runs again after a restore can pass
 * it on as an idempotency key. `undefined` for machine actors and for trees XState made alone.
 *
 * @example
 * fromPromise(async ({ input, self }) => charge(input.order, { idempotencyKey: invocationId(self) }))
 */
export function invocationId(actor: AnyActorRef): string | undefined {
  return invocationIds.get(actor) ?? trackerOf(actor.system)?.name(actor);
}

/** The tracker of a system, if `restoreActorTree` made its root. */
export function trackerOf(system: unknown): TreeTracker | undefined {
  return trackers.get(system as object);
}

/** True when `logic` is a state machine (its actors hold children and are no invocation). */
export function isMachineLogic(logic: unknown): boolean {
  return typeof (logic as { getStateNodeById?: unknown } | null)?.getStateNodeById === 'function';
}

/** True when `logic` does something when it starts (promise, callback, observable), unlike a pure `fromTransition`: its actor is an invocation. */
export function hasEffects(logic: unknown): boolean {
  return typeof (logic as { start?: unknown } | null)?.start === 'function';
}

/** The path of a live actor, from its parents' ids. */
export function livePath(actor: AnyActorRef): ActorPath {
  const path: string[] = [];
  for (let ref: ActorInternals | undefined = actor as unknown as ActorInternals; ref?._parent !== undefined; ref = ref._parent as unknown as ActorInternals) path.push(ref.id);
  return path.reverse();
}

/** Watches one actor system: `install` it on the system right after `createActor`, before `start`. */
export class TreeTracker {
  /** The last invocation number given out. */
  invocationSeq: number;
  private readonly restoredIds = new Map<string, string>();
  private readonly fullDelays = new WeakMap<object, number>();
  private nextFullDelay: number | undefined;

  constructor(
    readonly clock: Pick<Clock, 'now'>,
    invocationSeq = 0,
    restored: readonly PendingInvocation[] = [],
  ) {
    this.invocationSeq = invocationSeq;
    for (const pending of restored) this.restoredIds.set(pathKey(pending.path), pending.invocationId);
  }

  /** Stamps each delayed event the system schedules with the clock's time and keeps its full delay. */
  install(system: SystemInternals): void {
    trackers.set(system, this);
    const scheduler = system.scheduler;
    const schedule = scheduler.schedule;
    // XState's own re-scheduling (system.start) calls this same property, so every path is covered.
    scheduler.schedule = (source, target, event, delay, id = `steadfast.${nanoid(12)}`) => {
      const full = this.nextFullDelay ?? delay;
      this.nextFullDelay = undefined;
      schedule(source, target, event, delay, id);
      const entry = system._snapshot._scheduledEvents[`${source.sessionId}.${id}`];
      if (entry === undefined) return;
      entry.startedAt = this.clock.now();
      this.fullDelays.set(entry, full);
    };
  }

  /** Schedules a restored delayed event after `delay` ms, remembering its original `fullDelay`. */
  reschedule(system: SystemInternals, source: AnyActorRef, target: AnyActorRef, event: ScheduledEntry['event'], delay: number, id: string, fullDelay: number): void {
    this.nextFullDelay = fullDelay;
    system.scheduler.schedule(source, target, event, delay, id);
  }

  /** The delay the machine asked for when the event was first scheduled. */
  fullDelayOf(entry: ScheduledEntry): number {
    return this.fullDelays.get(entry) ?? entry.delay;
  }

  /** Gives the restored invocations their ids by path now, before a new invocation at the same path could ask. */
  nameRestored(root: AnyActorRef): void {
    for (const [key, id] of this.restoredIds) {
      let ref: AnyActorRef | undefined = root;
      for (const segment of key.split('/')) ref = (ref?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)?.children?.[decodeURIComponent(segment)];
      if (ref !== undefined && ref !== root) invocationIds.set(ref, id);
    }
    this.restoredIds.clear();
  }

  /** Names an actor of this tree (`undefined` for a machine or the root). */
  name(actor: AnyActorRef): string | undefined {
    const internals = actor as unknown as ActorInternals;
    if (internals._parent === undefined || isMachineLogic(internals.logic)) return undefined;
    const id = `${pathKey(livePath(actor))}#${++this.invocationSeq}`;
    invocationIds.set(actor, id);
    return id;
  }
}
