// What the death of a thread stage's worker (a timeout, a crash) does to the calls in flight.
import type { StageCallError } from '../core/errors.js';
import { CALL_DONE, type CallPosition } from './call-progress.js';
import { downFailure, type Downfall } from './down-failure.js';
import type { LateAnswers } from './late-answers.js';
import type { PendingCalls } from './pending-calls.js';
import type { ThreadWorker } from './thread-worker.js';

/** The error of a worker's death, and the call it took down with it, with what that call rejects with. */
export interface Burial {
  error: StageCallError;
  culprit: { id: number; rejection: Error } | undefined;
}

/**
 * The call the worker was running at `at` (else the oldest in flight) fails for the event it was
 * on when `at` says which (a BatchFailure giving back the others), else as a whole. When that call
 * had answered just before a crash (`beforeExit`: the worker has not exited yet), its answer still
 * comes before the exit: it leaves `pending` and waits for it in `late` instead of failing.
 */
export function bury(down: Downfall, worker: ThreadWorker | undefined, at: CallPosition | undefined, beforeExit: boolean, pending: PendingCalls, late: LateAnswers): Burial {
  const culprit = pending.culprit(at);
  // The call had answered (a crash just after it, e.g. in a timer it set): its answer reaches us
  // before the worker's exit, so the call waits for it instead of failing. (After the exit it
  // would have come already: it was lost.)
  const answered = beforeExit && worker !== undefined && culprit !== undefined && at?.index === CALL_DONE && (culprit.id | 0) === at.call;
  const { error, rejection } = downFailure(down, answered ? undefined : culprit);
  if (answered) {
    pending.take(culprit.id);
    late.owe(worker, culprit.id, culprit.call, downFailure(down, culprit).error);
    return { error, culprit: undefined };
  }
  return { error, culprit: culprit === undefined ? undefined : { id: culprit.id, rejection } };
}
