import type { Batch } from '../core/batch-queue.js';
import { SinkWriteError, StageCallError, isSteadfastError, messageOf } from '../core/errors.js';
import type { Sink } from '../sinks/sink.js';
import { BatchFailure, type CallOutcome, type CallRunner } from './call-outcome.js';

const EMPTY: Batch = { values: [], offsets: [] };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The runner of a sink node: one `write` per batch. */
export function sinkRunner(sink: Sink, node: string): CallRunner {
  const fail = (batch: Batch, cause: unknown): BatchFailure => {
    const failed = cause instanceof SinkWriteError ? cause : { offsets: batch.offsets, events: batch.values };
    const message = isSteadfastError(cause, 'SINK_WRITE_FAILED')
      ? cause.message
      : `sink "${node}" failed to write the batch at offsets ${span(batch)}: ${messageOf(cause)}`;
    const error = new StageCallError('SINK_WRITE_FAILED', node, message, failed, cause);
    return new BatchFailure(error, { state: undefined, values: [], offsets: [] }, EMPTY);
  };
  const done: CallOutcome = { state: undefined, values: [], offsets: [] };
  return (batch) => {
    let written: unknown;
    try {
      written = sink.write(batch.values, batch.offsets);
    } catch (cause) {
      throw fail(batch, cause);
    }
    if (!isThenable(written)) return done;
    return Promise.resolve(written).then(
      () => done,
      (cause: unknown) => {
        throw fail(batch, cause);
      },
    );
  };
}

function span(batch: Batch): string {
  const first = batch.offsets[0];
  const last = batch.offsets[batch.offsets.length - 1];
  return first === last ? String(first) : `${first}..${last}`;
}
