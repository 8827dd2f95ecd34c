// What a thread stage's worker answers to a call, turned back into the call's outcome or error.
import type { Batch } from '../core/batch-queue.js';
import { messageOf, type StageCallError } from '../core/errors.js';
import { BatchFailure, type CallOutcome } from '../stage/run-call.js';
import { callError, span, type CutShort, type ThreadCallErrorCode } from './down-failure.js';
import type { WireCallError, WireCause, WorkerMessage } from './protocol.js';

/** A call sent to the worker and not answered yet: its batch, the state it started from, how to settle it. */
export interface PendingCall extends CutShort {
  resolve: (outcome: CallOutcome) => void;
  reject: (error: Error) => void;
}

/** The messages that answer a call. */
export type Answer = Extract<WorkerMessage, { type: 'result' | 'failure' | 'call-error' }>;

/** True for a message that answers a call. */
export function isAnswer(message: WorkerMessage): message is Answer {
  return message.type === 'result' || message.type === 'failure' || message.type === 'call-error';
}

/** Settles a call of stage node `node` with the worker's answer. */
export function settleCall(call: PendingCall, message: Answer, node: string): void {
  switch (message.type) {
    case 'result':
      call.resolve(message.outcome);
      return;
    case 'failure':
      call.reject(new BatchFailure(callErrorOf(message.error), message.committed, message.rest));
      return;
    case 'call-error': {
      const cause = message.cause === undefined ? undefined : causeError(message.cause);
      call.reject(callError('STAGE_CALL_FAILED', node, message.message, call.batch, cause));
      return;
    }
  }
}

/** The STAGE_CALL_FAILED of a call that cannot be posted to the worker: its state, or else its events, cannot be cloned. */
export function cloneFailure(node: string, batch: Batch, state: unknown, error: unknown): StageCallError {
  let stateClones = true;
  try {
    structuredClone(state);
  } catch {
    stateClones = false;
  }
  const what = stateClones ? `events at offsets ${span(batch)}` : 'state';
  const message = `${what} of stage "${node}" cannot be sent to its worker thread (a thread stage's state and events must be structured-cloneable): ${messageOf(error)}`;
  return callError('STAGE_CALL_FAILED', node, message, batch, error);
}

/** A StageCallError from the worker, rebuilt. */
function callErrorOf(wire: WireCallError): StageCallError {
  // STAGE_TIMEOUT: an async event that overran timeoutMs, failed by the worker's own deadline.
  const code: ThreadCallErrorCode = wire.code === 'STAGE_RESULT_INVALID' || wire.code === 'STAGE_TIMEOUT' ? wire.code : 'STAGE_CALL_FAILED';
  const cause = wire.cause === undefined ? undefined : causeError(wire.cause);
  return callError(code, wire.stage, wire.message, { values: wire.events as unknown[], offsets: wire.offsets as number[] }, cause);
}

/** An Error standing for a value thrown in the worker: its name, message, stack string and code. */
export function causeError(wire: WireCause): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  error.stack = wire.stack ?? `${wire.name}: ${wire.message}\n    at <worker thread>`;
  if (wire.code !== undefined) Object.defineProperty(error, 'code', { value: wire.code, enumerable: true, configurable: true, writable: true });
  return error;
}
