// Answers owed by workers already taken down: a worker that crashed just after it answered a call
// (e.g. in a timer the call set) posted that answer before its `exit`, so the call waits for it.
import type { StageCallError } from '../core/errors.js';
import type { WorkerMessage } from './protocol.js';
import type { ThreadWorker } from './thread-worker.js';
import { isAnswer, settleCall, type PendingCall } from './worker-answer.js';

/** A call whose answer the worker had posted when it died: that message comes before the worker's `exit`. */
interface Answered {
  id: number;
  call: PendingCall;
  /** What the call rejects with if the answer does not come after all. */
  error: StageCallError;
}

/** Dead workers that still owe an answer they had posted, and the call it is for. */
export class LateAnswers {
  private readonly owed = new Map<ThreadWorker, Answered>();

  /** `worker`, taken down, owes the answer to call `id`; without it, the call rejects with `error`. */
  owe(worker: ThreadWorker, id: number, call: PendingCall, error: StageCallError): void {
    this.owed.set(worker, { id, call, error });
  }

  /** A message from a worker that was taken down: settles the call of stage node `node` when it is the answer owed. */
  deliver(worker: ThreadWorker, message: WorkerMessage, node: string): void {
    const late = this.owed.get(worker);
    if (late === undefined || !isAnswer(message) || message.id !== late.id) return;
    this.owed.delete(worker);
    settleCall(late.call, message, node);
  }

  /** The worker exited: its messages have all been delivered by now, so an answer still owed is lost. */
  lost(worker: ThreadWorker): void {
    const late = this.owed.get(worker);
    this.owed.delete(worker);
    late?.call.reject(late.error);
  }
}
