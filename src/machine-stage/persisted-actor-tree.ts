// The JSON-safe record of a whole XState actor tree: what `getPersistedSnapshot()` keeps, plus
// what XState leaves out (pending delayed events, the invocations to run again, the counter that
// keeps invocation ids stable). Format and guarantees: docs/machines.md.

/** The version of the {@link PersistedActorTree} format; a restore refuses any other. */
export const PERSISTED_ACTOR_TREE_FORMAT = 1;

/**
 * What a pending delayed event becomes on restore: `'deadline'` fires at its original deadline
 * (at once if it has passed), `'remaining'` after the time that was left when it was persisted,
 * `'restart'` after its full delay again.
 */
export type TimerPolicy = 'deadline' | 'remaining' | 'restart';

/** The timer policies, for option checks. */
export const TIMER_POLICIES: readonly TimerPolicy[] = ['deadline', 'remaining', 'restart'];

/** An actor's place in the tree: the ids from the root's child down to it (`[]` is the root). */
export type ActorPath = string[];

/** A delayed event (`after`, `raise`/`sendTo` with `delay`) that had not fired when the tree was persisted. */
export interface PersistedDelayedEvent {
  /** XState's id of the delayed event (the `after` event type, the action's `id`, or one steadfast gave it): `cancel(id)` still cancels it after a restore. */
  id: string;
  /** The event that will be delivered. */
  event: { type: string; [key: string]: unknown };
  /** The actor that scheduled it. */
  source: ActorPath;
  /** The actor it will be delivered to. */
  target: ActorPath;
  /** Its full delay in milliseconds, as the machine asked for it (kept across restores). */
  delay: number;
  /** When it is due: epoch milliseconds of the clock it ran on. */
  deadline: number;
  /** Milliseconds that were left when it was persisted (0 when overdue). */
  remaining: number;
}

/** An invoked or spawned actor with effects (a promise, callback or observable) that had not settled: it runs again on restore. */
export interface PendingInvocation {
  /** Stable across restores: `<path>#<n>`, usable as an idempotency key (see `invocationId`). */
  invocationId: string;
  path: ActorPath;
  /** The key of its logic in `setup({ actors })` (or XState's `xstate.invoke.*` name for inline invoke logic). */
  src: string;
}

/** A whole actor tree as plain JSON: survives `JSON.parse(JSON.stringify())` and the checkpoint codecs. */
export interface PersistedActorTree {
  format: typeof PERSISTED_ACTOR_TREE_FORMAT;
  /** The root's `getPersistedSnapshot()`: its children (spawned and invoked, with `src` and `systemId`) nest inside, recursively. */
  root: unknown;
  /** Delayed events not yet delivered, with their absolute deadlines. */
  delayed: PersistedDelayedEvent[];
  /** Invocations that had not settled: they run again on restore (at-least-once). */
  invocations: PendingInvocation[];
  /** The last invocation number given out in this tree's history (the `n` of `<path>#<n>`). */
  invocationSeq: number;
  /** Actors in the tree, the root included. */
  actors: number;
  /** Epoch milliseconds of the persisting clock. */
  persistedAt: number;
}

/** Text of a path for messages and invocation ids: ids percent-encoded, joined by `/` (`''` for the root). */
export function pathKey(path: readonly string[]): string {
  let key = '';
  for (let i = 0; i < path.length; i++) key += (i === 0 ? '' : '/') + encodeURIComponent(path[i] as string);
  return key;
}

/** A path for messages: `root` or `root/a/b`. */
export function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'root' : `root/${pathKey(path)}`;
}
