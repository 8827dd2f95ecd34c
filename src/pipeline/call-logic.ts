import type { PromiseActorLogic, PromiseSnapshot } from 'xstate';

const RESOLVE = 'steadfast.call.resolve';
const REJECT = 'steadfast.call.reject';
/** What XState sends an actor it stops (the event `fromPromise` and `fromCallback` also handle). */
const STOP = 'xstate.stop';

/**
 * Promise actor logic for the stage machine's `call`: the same snapshots and events as XState's
 * `fromPromise` (resolved → done event with the output, rejected → error event), without the
 * AbortController and WeakMap entry `fromPromise` makes for every call. A stage runs one call per
 * batch, so that saved work is paid per batch; cancellation comes from the stage's own signal,
 * which the runtime aborts when it abandons the stage. test/pipeline/call-logic.test.ts runs both
 * through the same scenarios, so an XState change to the promise actor (or to `'xstate.stop'`) fails there.
 */
export function fromCall<TOutput, TInput>(run: (input: TInput) => TOutput | PromiseLike<TOutput>): PromiseActorLogic<TOutput, TInput> {
  return {
    config: run,
    transition: (snapshot, event) => {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case RESOLVE:
          return { ...snapshot, status: 'done', output: (event as unknown as { data: TOutput }).data, input: undefined };
        case REJECT:
          return { ...snapshot, status: 'error', error: (event as unknown as { data: unknown }).data, input: undefined };
        case STOP:
          return { ...snapshot, status: 'stopped', input: undefined };
        default:
          return snapshot;
      }
    },
    start: (snapshot, { self }) => {
      if (snapshot.status !== 'active') return;
      // A synchronous throw leaves start() uncaught, as with fromPromise: XState then fails the
      // actor at once (status 'error', input kept) and tells the parent in the same macrostep.
      Promise.resolve(run(snapshot.input as TInput)).then(
        (data) => {
          if (self.getSnapshot().status === 'active') self.send({ type: RESOLVE, data });
        },
        (data: unknown) => {
          if (self.getSnapshot().status === 'active') self.send({ type: REJECT, data });
        },
      );
    },
    getInitialSnapshot: (_, input) => ({ status: 'active', output: undefined, error: undefined, input }) as PromiseSnapshot<TOutput, TInput>,
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<TOutput, TInput>,
  };
}
