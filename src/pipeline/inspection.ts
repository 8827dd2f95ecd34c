import type { AnyActorRef, InspectionEvent, Subscription } from 'xstate';

/** A listener of XState inspection events, as `createActor(machine, { inspect })` takes one. */
export type InspectionListener = (event: InspectionEvent) => void;

/** An actor whose actor system can be inspected. */
type Inspectable = Pick<AnyActorRef, 'system' | 'getSnapshot'>;

interface Watched {
  actor: Inspectable;
  subscription: Subscription | undefined;
}

/**
 * The inspection listeners of one pipeline: the `inspect` option and whoever subscribes later
 * (`pipeline.inspect()`, the dashboard). Stage actors are watched, not created with an `inspect`
 * option: XState builds inspection events only for systems with an inspector, and a no-op
 * inspector roughly doubles the cost of a step. So the hub subscribes to the systems of the
 * current actors while at least one listener listens, and to none otherwise. A listener that throws
 * is ignored: XState calls it inside an actor's step, where a throw would crash the actor.
 */
export class Inspection {
  private readonly listeners = new Set<InspectionListener>();
  /** The current actor of each owner (a stage instance); a new incarnation replaces the last. */
  private readonly watched = new Map<object, Watched>();
  private prunedAt = 0;

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: InspectionListener): () => void {
    // A wrapper per subscription, so the same function added twice is removed once per unsubscribe.
    const entry: InspectionListener = (event) => listener(event);
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

  /** `actor` is now `owner`'s actor: listeners hear it from now on (before it starts, if it has not). */
  watch(owner: object, actor: Inspectable): void {
    this.watched.get(owner)?.subscription?.unsubscribe();
    this.watched.set(owner, { actor, subscription: this.listeners.size > 0 ? actor.system.inspect(this.emit) : undefined });
    if (this.watched.size > 2 * this.prunedAt + 16) this.prune();
  }

  /** Passes one event to every listener; bound, so that it can be given to `createActor` as its `inspect` option. */
  readonly emit = (event: InspectionEvent): void => {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // inspection is a side channel: a listener's bug must not crash the actor it watches
      }
    }
  };

  private subscribeAll(): void {
    this.prune();
    for (const watched of this.watched.values()) watched.subscription ??= watched.actor.system.inspect(this.emit);
  }

  /** Forgets actors that have ended (stopped, done, failed): their owners were removed or replaced them. */
  private prune(): void {
    for (const [owner, watched] of this.watched) {
      if (watched.actor.getSnapshot().status === 'active') continue;
      watched.subscription?.unsubscribe();
      this.watched.delete(owner);
    }
    this.prunedAt = this.watched.size;
  }
}
