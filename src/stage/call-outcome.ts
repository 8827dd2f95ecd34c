// The shapes of a stage call: its outcome, its failure (with what it committed and what it left),
// the context it runs with, and what a failed event does to a per-event call.
import type { Logger } from 'pino';
import type { PartialCallFailure } from '../../machines/stage.machine.js';
import type { Batch } from '../core/batch-queue.js';
import type { StageCallError } from '../core/errors.js';
import type { CallFailure, Outputs } from './outputs.js';

/** What a successful call produced: the new state and the outputs with their source offsets. */
export interface CallOutcome {
  state: unknown;
  values: unknown[];
  offsets: number[];
  /** Events that failed while the call went on without them (`onFailure: 'resume'`): to report. */
  failures?: CallFailure[] | undefined;
  /** Failed events in a row at the end of the call: the stage machine keeps the count across calls. */
  failuresInRow?: number;
}

/**
 * A call failed. `committed` is what the events before the failure produced (kept), `error` names
 * the events that failed, and `rest` are the events after them, not yet processed. `restart`: the
 * call stopped because too many events failed in a row (`restartAfterFailures`), so the stage
 * restarts whatever its `onFailure`.
 */
export class BatchFailure extends Error implements PartialCallFailure {
  constructor(
    readonly error: StageCallError,
    readonly committed: CallOutcome,
    readonly rest: Batch,
    readonly restart = false,
  ) {
    super(error.message, { cause: error });
    this.name = 'BatchFailure';
  }
}

/** The context object of one node, reused across its calls. */
export interface MutableStageContext {
  stage: string;
  offset: number;
  offsets: readonly number[];
  signal: AbortSignal;
  log: Logger;
  /** Failed events in a row before this call (set by the node from its machine before each call). */
  failuresInRow?: number;
  /** What a failed event does to this call (set by the node from its machine); without it the first failure ends the call. */
  failurePolicy?: EventFailurePolicy;
}

/**
 * How a per-event runner treats a failed event: `resume` reports it with the call's outcome and
 * goes on with the next event (state as before it); after `restartAfter` failed events in a row
 * (0: never) the call stops and the stage restarts. Without `resume` the first failure ends the call.
 */
export interface EventFailurePolicy {
  resume: boolean;
  restartAfter: number;
}

export const FAIL_FAST: EventFailurePolicy = { resume: false, restartAfter: 0 };

/**
 * Makes an error without capturing a stack: a StageCallError's own stack only shows the runner
 * (its `cause` has the user's), and capturing it is most of the cost of a failed event.
 */
export function stackless<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Runs one call over a batch; returns synchronously when the user code does. */
export type CallRunner = (batch: Batch, state: unknown, ctx: MutableStageContext) => CallOutcome | Promise<CallOutcome>;

/** The outcome of a per-event call that went through its batch: state, outputs, failures to report. */
export function outcomeOf(state: unknown, outputs: Outputs): CallOutcome {
  const { values, offsets } = outputs.finish();
  return { state, values, offsets, failures: outputs.failures, failuresInRow: outputs.failuresInRow() };
}

/**
 * What a per-event runner does with event `i` that failed, as `ctx.failurePolicy` says: under
 * `resume` it is recorded and the call goes on (returns), unless it makes `restartAfter` failures
 * in a row; otherwise the call ends with a BatchFailure holding what the events before it did, and
 * the events after it.
 */
export function eventFailures() {
  const failAt = (batch: Batch, i: number, state: unknown, outputs: Outputs, error: StageCallError, restart: boolean): BatchFailure => {
    const { values, offsets } = outputs.finish();
    const committed: CallOutcome = { state, values, offsets, failures: outputs.failures };
    return new BatchFailure(error, committed, { values: batch.values.slice(i + 1), offsets: batch.offsets.slice(i + 1) }, restart);
  };
  return (batch: Batch, i: number, state: unknown, outputs: Outputs, error: StageCallError, ctx: MutableStageContext): void => {
    const { resume, restartAfter } = ctx.failurePolicy ?? FAIL_FAST;
    if (!resume) throw failAt(batch, i, state, outputs, error, false);
    const inRow = outputs.fail(i, error);
    if (restartAfter > 0 && inRow >= restartAfter) {
      outputs.failures?.pop(); // this one is the call's own failure
      throw failAt(batch, i, state, outputs, error, true);
    }
  };
}
