// The calls a thread stage's runner has sent to its worker and not had answered yet, by id.
import type { CallPosition } from './call-progress.js';
import type { Culprit } from './down-failure.js';
import type { PendingCall } from './worker-answer.js';

/** The calls in flight, in the order they were sent, with the ids they were sent under. */
export class PendingCalls {
  private readonly calls = new Map<number, PendingCall>();
  private lastId = 0;

  /** Calls in flight. */
  get size(): number {
    return this.calls.size;
  }

  /** The id of the next call to send. */
  nextId(): number {
    return ++this.lastId;
  }

  /** Records a call sent under `id`. */
  add(id: number, call: PendingCall): void {
    this.calls.set(id, call);
  }

  /** Removes and returns the call sent under `id`, if it is still in flight. */
  take(id: number): PendingCall | undefined {
    const call = this.calls.get(id);
    if (call !== undefined) this.calls.delete(id);
    return call;
  }

  /** Removes and returns every call in flight, oldest first. */
  drain(): Array<[number, PendingCall]> {
    const calls = [...this.calls];
    this.calls.clear();
    return calls;
  }

  /**
   * The call that took the worker down: the one the worker was running at `at` (with the index of
   * its event, when that is known), else the oldest call in flight.
   */
  culprit(at: CallPosition | undefined): Culprit<PendingCall> | undefined {
    if (at !== undefined) {
      for (const [id, call] of this.calls) {
        if ((id | 0) !== at.call) continue;
        const index = at.index >= 0 && at.index < call.batch.values.length ? at.index : undefined;
        return { id, call, index };
      }
    }
    const oldest = this.calls.entries().next();
    return oldest.done === true ? undefined : { id: oldest.value[0], call: oldest.value[1], index: undefined };
  }
}
