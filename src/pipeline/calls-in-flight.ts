import type { Batch } from '../core/batch-queue.js';

/** One call a node started: its events, when it took them, and whether it replays after a restart. */
export interface CallRecord {
  batch: Batch;
  takenAt: number;
  /** Replays run in calls of their own, so that their outputs can be told apart and dropped. */
  replay: boolean;
}

/** The calls a node has in flight, oldest first. */
export class CallsInFlight {
  private calls: CallRecord[] = [];

  get size(): number {
    return this.calls.length;
  }

  add(call: CallRecord): void {
    this.calls.push(call);
  }

  /** Events taken by replay calls still in flight. */
  replayEvents(): number {
    let n = 0;
    for (const call of this.calls) if (call.replay) n += call.batch.values.length;
    return n;
  }

  /** Still in flight (not ended, not abandoned). */
  has(call: CallRecord): boolean {
    return this.calls.includes(call);
  }

  /** The call ended; false if it was no longer in flight (abandoned). */
  remove(call: CallRecord): boolean {
    const i = this.calls.indexOf(call);
    if (i < 0) return false;
    this.calls.splice(i, 1);
    return true;
  }

  /** Takes every call out (an abandoned incarnation's), newest first: their events go back to the mailbox's front in order. */
  abandonAll(): CallRecord[] {
    const calls = this.calls.reverse();
    this.calls = [];
    return calls;
  }
}
