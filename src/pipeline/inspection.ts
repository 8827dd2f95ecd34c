import type { AnyActorRef, InspectionEvent, Subscription } from 'xstate';

/** A listener of XState inspection events, as `createActor(machine, { inspect })` takes one. */
export type InspectionListener = (event: InspectionEvent) => void;

/** An actor whose actor system can be inspected. */
type Inspectable = Pick<AnyActorRef, 'system' | 'getSnapshot' | 'sessionId'>;

interface Watched {
  actor: Inspectable;
  subscription: Subscription | undefined;
}

/**
 * The inspection listeners of one pipeline: the `inspect` option and whoever subscribes later
 * (`pipeline.inspect()`, the dashboard). Stage actors are watched, not created with an `inspect`
 * option: XState builds inspection events only for systems with an inspector, and a no-op
 * inspector roughly doubles the cost of a step. So the hub subscribes to the systems of the
 * current actors while at least one listener listens, and to none otherwise.
 *
 * XState announces an actor (`@xstate.actor`) in its constructor, before a system can be
 * subscribed to, so the hub announces each watched actor itself when it is watched; and a listener
 * that comes later hears `@xstate.actor` for every live actor (and their live children) first,
 * as if it had listened from the start. A listener that throws is ignored: XState calls it inside
 * an actor's step, where a throw would crash the actor.
 */
export class Inspection {
  private readonly listeners = new Set<InspectionListener>();
  /** The current actor of each owner (a stage instance); a new incarnation replaces the last. */
  private readonly watched = new Map<object, Watched>();
  /** Root actors announced through `emit` (created with it as their `inspect`: the supervisor), by session. */
  private readonly announced = new Map<string, Inspectable>();
  private prunedAt = 0;

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener, which first hears `@xstate.actor` for each live actor; returns the function that removes it. */
  add(listener: InspectionListener): () => void {
    // A wrapper per subscription, so the same function added twice is removed once per unsubscribe.
    const entry: InspectionListener = (event) => listener(event);
    this.prune();
    for (const actor of this.live()) announce(actor, actor.sessionId, entry, new Set());
    this.listeners.add(entry);
    if (this.listeners.size === 1) this.subscribeAll();
    return () => {
      if (!this.listeners.delete(entry) || this.listeners.size > 0) return;
      for (const watched of this.watched.values()) {
        watched.subscription?.unsubscribe();
        watched.subscription = undefined;
      }
    };
  }

  /**
   * `actor` is now `owner`'s actor: listeners hear it from now on, starting with its `@xstate.actor`
   * (call it before the actor starts, so that they hear its first snapshot too).
   */
  watch(owner: object, actor: Inspectable): void {
    this.watched.get(owner)?.subscription?.unsubscribe();
    const listening = this.listeners.size > 0;
    this.watched.set(owner, { actor, subscription: listening ? actor.system.inspect(this.emit) : undefined });
    if (listening) this.deliver(created(actor, actor.sessionId));
    if (this.watched.size + this.announced.size > 2 * this.prunedAt + 16) this.prune();
  }

  /** Passes one event to every listener; bound, so that it can be given to `createActor` as its `inspect` option. */
  readonly emit = (event: InspectionEvent): void => {
    // A root announced by XState itself (an actor created with `emit` as its inspector): kept for listeners that come later.
    if (event.type === '@xstate.actor' && event.actorRef.sessionId === event.rootId) this.remember(event.actorRef as AnyActorRef);
    this.deliver(event);
  };

  private deliver(event: InspectionEvent): void {
    for (const listener of this.listeners) tell(listener, event);
  }

  private remember(actor: Inspectable): void {
    this.announced.set(actor.sessionId, actor);
    if (this.watched.size + this.announced.size > 2 * this.prunedAt + 16) this.prune();
  }

  /** The live root actors: the announced ones, then the watched ones. */
  private live(): Inspectable[] {
    const roots = new Map<string, Inspectable>(this.announced);
    for (const watched of this.watched.values()) roots.set(watched.actor.sessionId, watched.actor);
    return [...roots.values()];
  }

  private subscribeAll(): void {
    for (const watched of this.watched.values()) watched.subscription ??= watched.actor.system.inspect(this.emit);
  }

  /** Forgets actors that have ended (stopped, done, failed): their owners were removed or replaced them. */
  private prune(): void {
    for (const [owner, watched] of this.watched) {
      if (!ended(watched.actor)) continue;
      watched.subscription?.unsubscribe();
      this.watched.delete(owner);
    }
    for (const [session, actor] of this.announced) if (ended(actor)) this.announced.delete(session);
    this.prunedAt = this.watched.size + this.announced.size;
  }
}

/** Stopped, done or failed; an actor still in its constructor (announced before it has a snapshot) has not. */
function ended(actor: Inspectable): boolean {
  let snapshot: { status?: string } | undefined;
  try {
    snapshot = actor.getSnapshot() as { status?: string } | undefined;
  } catch {
    return false; // XState throws while the actor is in its constructor (it announces itself before its first snapshot)
  }
  return snapshot !== undefined && snapshot.status !== 'active';
}

/** The `@xstate.actor` event XState sends when `actor` is created in the system rooted at `rootId`. */
function created(actor: Inspectable, rootId: string): InspectionEvent {
  return { type: '@xstate.actor', actorRef: actor as AnyActorRef, rootId };
}

/** Tells `listener` of `actor` and of its live children, parents first. */
function announce(actor: Inspectable, rootId: string, listener: InspectionListener, seen: Set<string>): void {
  if (seen.has(actor.sessionId)) return;
  seen.add(actor.sessionId);
  tell(listener, created(actor, rootId));
  let children: Record<string, Inspectable | undefined> | undefined;
  try {
    children = (actor.getSnapshot() as { children?: Record<string, Inspectable | undefined> }).children;
  } catch {
    return; // still in its constructor: no children yet
  }
  if (children === undefined || children === null) return;
  for (const child of Object.values(children)) {
    if (child !== undefined && !ended(child)) announce(child, rootId, listener, seen);
  }
}

function tell(listener: InspectionListener, event: InspectionEvent): void {
  try {
    listener(event);
  } catch {
    // inspection is a side channel: a listener's bug must not crash the actor it watches
  }
}
