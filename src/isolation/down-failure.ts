import type { Batch } from '../core/batch-queue.js';
import { StageCallError, messageOf } from '../core/errors.js';
import { BatchFailure } from '../stage/run-call.js';

/** Codes a ThreadRunner's call errors carry. */
export type ThreadCallErrorCode = 'STAGE_CALL_FAILED' | 'STAGE_RESULT_INVALID' | 'STAGE_TIMEOUT' | 'STAGE_CRASHED' | 'STAGE_STOPPED';

/** A call in flight when the worker went down: its batch and the state it started from. */
export interface CutShort {
  batch: Batch;
  state: unknown;
}

/** The call that took the worker down and, when the progress buffer says, the index of its event that did. */
export interface Culprit<TCall extends CutShort = CutShort> {
  id: number;
  call: TCall;
  index: number | undefined;
}

/** Why the runner cannot take calls. */
export interface Down {
  code: 'STAGE_TIMEOUT' | 'STAGE_CRASHED' | 'STAGE_STOPPED';
  message: string;
  /** The error of the crash or timeout (or of the failed start), given as `cause` to the calls that fail after it. */
  cause: unknown;
  /** After a timeout or a crash (not a stop): the next call starts a fresh worker first. */
  respawn: boolean;
}

/** What went wrong: a timeout or a crash of the worker of stage node `node`. */
export interface Downfall {
  code: 'STAGE_TIMEOUT' | 'STAGE_CRASHED';
  node: string;
  timeoutMs: number | undefined;
  /** Why it crashed (STAGE_CRASHED). */
  reason: string | undefined;
  cause: unknown;
}

/**
 * What the culprit of a timeout or crash rejects with. When the index of its event is known: a
 * BatchFailure for that event alone, whose `committed` is the state the call started from with no
 * outputs (what the events before it computed died with the worker) and whose `rest` is every
 * other event of the batch, in order, to be run again. Otherwise a StageCallError for the whole
 * batch. `error` is the StageCallError of what failed (for logs and `onCrash`).
 */
export function downFailure(down: Downfall, culprit: Culprit | undefined): { error: StageCallError; rejection: Error } {
  const { code, node, timeoutMs, reason, cause } = down;
  const batch = culprit?.call.batch ?? { values: [], offsets: [] };
  const index = culprit?.index;
  if (index === undefined) {
    const message =
      code === 'STAGE_TIMEOUT'
        ? `stage "${node}" did not finish a call (offsets ${span(batch)}) within its timeout of ${timeoutMs} ms; its worker thread was terminated`
        : `stage "${node}" crashed: ${reason}`;
    const error = callError(code, node, message, batch, cause);
    return { error, rejection: error };
  }
  const { values, offsets } = batch;
  const offset = offsets[index] as number;
  const which = values.length > 1 ? ` (event ${index + 1} of ${values.length} of its call)` : '';
  const message =
    code === 'STAGE_TIMEOUT'
      ? `stage "${node}" took longer than ${timeoutMs} ms at offset ${offset}${which}; its worker thread was terminated`
      : `stage "${node}" crashed at offset ${offset}${which}: ${reason}`;
  const error = callError(code, node, message, { values: [values[index]], offsets: [offset] }, cause);
  const rest: Batch = {
    values: [...values.slice(0, index), ...values.slice(index + 1)],
    offsets: [...offsets.slice(0, index), ...offsets.slice(index + 1)],
  };
  const rejection = new BatchFailure(error, { state: (culprit as Culprit).call.state, values: [], offsets: [] }, rest);
  return { error, rejection };
}

/** The error of a call in flight when the worker of stage node `node` was taken down by `down` (not the call that took it down). */
export function lostCall(down: Down, node: string, batch: Batch): StageCallError {
  const message =
    down.code === 'STAGE_STOPPED'
      ? `${down.message} during a call (offsets ${span(batch)}); the call was abandoned`
      : `${down.message}; the call at offsets ${span(batch)}, in flight in the same worker thread, was lost`;
  return callError(down.code, node, message, batch, down.cause);
}

/** The error of a call made while the runner cannot take it: the code of what took it down, and the call's own offsets. */
export function refusedCall(down: Down, node: string, batch: Batch): StageCallError {
  return callError(down.code, node, `${down.message}; the call at offsets ${span(batch)} was refused`, batch, down.cause);
}

/** Why a worker thread failed, from its `error` event: out of memory (with the stage's limits), or an uncaught error. */
export function workerErrorReason(resourceLimits: object | undefined, error: Error): string {
  if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    const limits = resourceLimits === undefined ? 'no resourceLimits' : `resourceLimits ${JSON.stringify(resourceLimits)}`;
    return `its worker thread ran out of memory (${limits}): ${messageOf(error)}`;
  }
  return `uncaught error in its worker thread: ${messageOf(error)}`;
}

/** A StageCallError for a call that did not happen (timeout, crash, stop), with its events and offsets. */
export function callError(code: ThreadCallErrorCode, stage: string, message: string, batch: Batch, cause: unknown): StageCallError {
  return new StageCallError(code, stage, message, { offsets: batch.offsets, events: batch.values }, cause);
}

/** A batch's offsets for a message: `7`, or `3..9`. */
export function span(batch: Batch): string {
  const first = batch.offsets[0];
  const last = batch.offsets[batch.offsets.length - 1];
  return first === last ? String(first) : `${first}..${last}`;
}
