// What steadfast watches in a live XState system so that a persisted tree can be complete: the
// clock time each delayed event was scheduled at (XState stamps `startedAt` with Date.now(), not
// with the actor's clock), each delayed event's full delay across restores, and a stable id for
// each invocation. It reads XState 5 internals (the system's scheduler); docs/machines.md says which.
import { nanoid } from 'nanoid';
import type { AnyActorRef, InspectionEvent } from 'xstate';
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
 * The invocation id steadfast gave an invoked or spawned actor (a promise, callback or
 * observable): `<path>#<n>`, the same after every restore of the tree, so an effect that runs
 * again after a restore can pass it on as an idempotency key. `undefined` for actors of a tree
 * not made by `restoreActorTree`, and for machine actors.
 *
 * @example
 * fromPromise(async ({ input, self }) => charge(input.order, { idempotencyKey: invocationId(self) }))
 */
export function invocationId(actor: AnyActorRef): string | undefined {
  return invocationIds.get(actor);
}

/** The tracker of a system, if `restoreActorTree` made its root. */
export function trackerOf(system: unknown): TreeTracker | undefined {
  return trackers.get(system as object);
}

/** True when `logic` is a state machine (its actors hold children and are no invocation). */
export function isMachineLogic(logic: unknown): boolean {
  return typeof (logic as { getStateNodeById?: unknown } | null)?.getStateNodeById === 'function';
}

/** The path of a live actor, from its parents' ids. */
export function livePath(actor: AnyActorRef): ActorPath {
  const path: string[] = [];
  for (let ref: ActorInternals | undefined = actor as unknown as ActorInternals; ref?._parent !== undefined; ref = ref._parent as unknown as ActorInternals) path.push(ref.id);
  return path.reverse();
}

/** Watches one actor system: give it to `createActor` as `inspect`, then `install` it on the system. */
export class TreeTracker {
  /** The last invocation number given out. */
  invocationSeq: number;
  private readonly restoredIds = new Map<string, string>();
  private readonly fullDelays = new WeakMap<object, number>();
  private nextFullDelay: number | undefined;
  private changed: (() => void) | undefined;

  constructor(
    readonly clock: Pick<Clock, 'now'>,
    invocationSeq = 0,
    restored: readonly PendingInvocation[] = [],
  ) {
    this.invocationSeq = invocationSeq;
    for (const pending of restored) this.restoredIds.set(pathKey(pending.path), pending.invocationId);
  }

  /** The inspection observer: names each new actor, and reports that something in the tree changed. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.snapshot') this.changed?.();
    else if (event.type === '@xstate.actor') this.name(event.actorRef as AnyActorRef);
  };

  /** Calls `fn` after each snapshot change of any actor in the tree (one listener; `undefined` removes it). */
  onChange(fn: (() => void) | undefined): void {
    this.changed = fn;
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

  private name(actor: AnyActorRef): void {
    const internals = actor as unknown as ActorInternals;
    if (internals._parent === undefined || isMachineLogic(internals.logic)) return;
    const key = pathKey(livePath(actor));
    const restored = this.restoredIds.get(key);
    if (restored !== undefined) {
      this.restoredIds.delete(key);
      invocationIds.set(actor, restored);
      return;
    }
    invocationIds.set(actor, `${key}#${++this.invocationSeq}`);
  }
}
