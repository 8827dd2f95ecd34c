import type { Logger } from 'pino';
import type { PartialCallFailure } from '../../machines/stage.machine.js';
import type { Batch } from '../core/batch-queue.js';
import { SinkWriteError, StageCallError, describeValue, messageOf, isSteadfastError } from '../core/errors.js';
import type { Sink } from '../sinks/sink.js';
import type { Stage, StageContext } from '../stage.js';
import { offAbort, onAbort } from '../resilience/signals.js';
import { TimedContext } from './call-context.js';
import { Outputs, type CallFailure } from './outputs.js';

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

const FAIL_FAST: EventFailurePolicy = { resume: false, restartAfter: 0 };

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

const EMPTY: Batch = { values: [], offsets: [] };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The runner of a stage node: per event (`process`) or per batch (`processBatch`). `policy` says
 * what a failed event does to a per-event call (default: it ends the call).
 */
export function stageRunner(stage: Stage, node: string, policy: EventFailurePolicy = FAIL_FAST): CallRunner {
  const { process, processBatch, timeoutMs } = stage;
  if (processBatch !== undefined) return batchRunner(stage, node, processBatch);
  if (process === undefined) throw new Error(`stage ${stage.name} has neither process nor processBatch`);
  const check = resultChecker(stage, node);
  const failed = eventFailures(policy);

  const timedOut = (batch: Batch, i: number, ms: number): StageCallError =>
    stackless(
      () =>
        new StageCallError('STAGE_TIMEOUT', node, `stage "${node}" took longer than ${ms} ms at offset ${batch.offsets[i]}`, {
          offsets: [batch.offsets[i] as number],
          events: [batch.values[i]],
        }),
    );

  const thrown = (batch: Batch, i: number, cause: unknown): StageCallError =>
    stackless(
      () =>
        new StageCallError(
          'STAGE_CALL_FAILED',
          node,
          `stage "${node}" failed at offset ${batch.offsets[i]}: ${messageOf(cause)}`,
          { offsets: [batch.offsets[i] as number], events: [batch.values[i]] },
          cause,
        ),
    );

  const finishAsync = async (
    batch: Batch,
    from: number,
    pending: PromiseLike<unknown>,
    state: unknown,
    outputs: Outputs,
    ctx: MutableStageContext,
    first: TimedContext | undefined,
  ): Promise<CallOutcome> => {
    for (let i = from; i < batch.values.length; i++) {
      const offset = batch.offsets[i] as number;
      ctx.offset = offset;
      // With a timeout each event's call has a ctx (and a signal) of its own.
      const timed = i === from ? first : timeoutMs === undefined ? undefined : new TimedContext(ctx, offset, batch.offsets);
      let result: unknown;
      try {
        const call = i === from ? pending : process(batch.values[i] as never, state as never, (timed ?? ctx) as StageContext);
        result = timeoutMs === undefined ? await call : await withDeadline(call, timeoutMs, ctx.signal);
      } catch (cause) {
        timed?.end();
        failed(batch, i, state, outputs, thrown(batch, i, cause));
        continue;
      }
      if (result === TIMED_OUT) {
        timed?.expire(timeoutMs as number);
        failed(batch, i, state, outputs, timedOut(batch, i, timeoutMs as number));
        continue;
      }
      timed?.end();
      const checked = check(result, batch, i, state);
      if (checked instanceof StageCallError) {
        failed(batch, i, state, outputs, checked);
        continue;
      }
      state = checked.state;
      if (checked.emit !== undefined) outputs.add(i, checked.emit);
    }
    return outcomeOf(state, outputs);
  };

  const { hasState } = stage;
  const timed = timeoutMs !== undefined;
  // The hot loop: one call per event. The result check is written out here rather than calling
  // `check`, which costs a few nanoseconds per event; the rare paths (async, invalid) call out.
  return (batch, initial, ctx) => {
    const outputs = new Outputs(batch, ctx.failuresInRow);
    let state = initial;
    ctx.offsets = batch.offsets;
    const { values, offsets } = batch;
    for (let i = 0; i < values.length; i++) {
      ctx.offset = offsets[i] as number;
      // A stage with a timeout gives each call its own ctx, whose signal aborts at the deadline.
      const call = timed ? new TimedContext(ctx, offsets[i] as number, offsets) : undefined;
      let result: unknown;
      try {
        result = process(values[i] as never, state as never, (call ?? ctx) as StageContext);
      } catch (cause) {
        call?.end();
        failed(batch, i, state, outputs, thrown(batch, i, cause));
        continue;
      }
      if (call !== undefined) {
        if (isThenable(result)) return finishAsync(batch, i, result, state, outputs, ctx, call);
        call.end();
      }
      if (typeof result !== 'object' || result === null || result instanceof Promise) {
        if (isThenable(result)) return finishAsync(batch, i, result, state, outputs, ctx, undefined);
        failed(batch, i, state, outputs, check(result, batch, i, state) as StageCallError);
        continue;
      }
      const r = result as { state?: unknown; emit?: unknown };
      const emit = r.emit;
      if (emit === undefined) {
        if (!('state' in r)) {
          if (isThenable(r)) return finishAsync(batch, i, r, state, outputs, ctx, undefined);
          if (hasState) failed(batch, i, state, outputs, check(r, batch, i, state) as StageCallError);
          continue;
        }
      } else if (!Array.isArray(emit) || (hasState && !('state' in r))) {
        failed(batch, i, state, outputs, check(r, batch, i, state) as StageCallError);
        continue;
      }
      if (hasState || 'state' in r) state = r.state;
      if (emit !== undefined) outputs.add(i, emit as readonly unknown[]);
    }
    return outcomeOf(state, outputs);
  };
}

/** The outcome of a per-event call that went through its batch: state, outputs, failures to report. */
export function outcomeOf(state: unknown, outputs: Outputs): CallOutcome {
  const { values, offsets } = outputs.finish();
  return { state, values, offsets, failures: outputs.failures, failuresInRow: outputs.failuresInRow() };
}

/**
 * What a per-event runner does with event `i` that failed: under `resume` it is recorded and the
 * call goes on (returns), unless it makes `restartAfter` failures in a row; otherwise the call
 * ends with a BatchFailure holding what the events before it did, and the events after it.
 */
export function eventFailures(policy: EventFailurePolicy) {
  const { resume, restartAfter } = policy;
  const failAt = (batch: Batch, i: number, state: unknown, outputs: Outputs, error: StageCallError, restart: boolean): BatchFailure => {
    const { values, offsets } = outputs.finish();
    const committed: CallOutcome = { state, values, offsets, failures: outputs.failures };
    return new BatchFailure(error, committed, { values: batch.values.slice(i + 1), offsets: batch.offsets.slice(i + 1) }, restart);
  };
  return (batch: Batch, i: number, state: unknown, outputs: Outputs, error: StageCallError): void => {
    if (!resume) throw failAt(batch, i, state, outputs, error, false);
    const inRow = outputs.fail(i, error);
    if (restartAfter > 0 && inRow >= restartAfter) {
      outputs.failures?.pop(); // this one is the call's own failure
      throw failAt(batch, i, state, outputs, error, true);
    }
  };
}

/** A checked stage result: the state to keep and the outputs, if any. */
interface Checked {
  state: unknown;
  emit: readonly unknown[] | undefined;
}

/**
 * Checks a stage result for event `i` of `batch`: returns the state to keep and the outputs, or the
 * STAGE_RESULT_INVALID error for a malformed result (returned, not thrown).
 */
export function resultChecker(stage: Stage, node: string) {
  const invalid = (batch: Batch, i: number, result: unknown, problem: string) =>
    new StageCallError(
      'STAGE_RESULT_INVALID',
      node,
      `stage "${node}" returned ${describeValue(result)} at offset ${batch.offsets[i]}: ${problem}`,
      { offsets: [batch.offsets[i] as number], events: [batch.values[i]] },
    );
  // One reusable answer per stage: the caller reads it before the next check.
  const answer: Checked = { state: undefined, emit: undefined };
  return (result: unknown, batch: Batch, i: number, previous: unknown): Checked | StageCallError => {
    if (typeof result !== 'object' || result === null) return invalid(batch, i, result, 'expected an object { state, emit }');
    const r = result as { state?: unknown; emit?: unknown };
    const emit = r.emit;
    if (emit !== undefined && !Array.isArray(emit)) return invalid(batch, i, result, '`emit` must be an array');
    if (stage.hasState) {
      if (!('state' in r)) return invalid(batch, i, result, 'expected { state } since the stage has an initialState');
      answer.state = r.state;
    } else answer.state = 'state' in r ? r.state : previous;
    answer.emit = emit as readonly unknown[] | undefined;
    return answer;
  };
}

function batchRunner(stage: Stage, node: string, processBatch: NonNullable<Stage['processBatch']>): CallRunner {
  const check = resultChecker(stage, node);
  const fail = (state: unknown, error: StageCallError) => new BatchFailure(error, { state, values: [], offsets: [] }, EMPTY);
  const thrown = (batch: Batch, cause: unknown) =>
    new StageCallError(
      'STAGE_CALL_FAILED',
      node,
      `stage "${node}" failed on the batch at offsets ${span(batch)}: ${messageOf(cause)}`,
      { offsets: batch.offsets, events: batch.values },
      cause,
    );
  const finish = (batch: Batch, state: unknown, result: unknown): CallOutcome => {
    const checked = check(result, batch, batch.values.length - 1, state);
    if (checked instanceof StageCallError) {
      throw fail(state, new StageCallError('STAGE_RESULT_INVALID', node, checked.message, { offsets: batch.offsets, events: batch.values }));
    }
    // Outputs of a batch call carry the offset of the batch's last event: they cover all of it.
    const emit = checked.emit ?? [];
    const last = batch.offsets[batch.offsets.length - 1] as number;
    return { state: checked.state, values: emit.slice(), offsets: new Array<number>(emit.length).fill(last) };
  };
  const { timeoutMs } = stage;
  return (batch, state, ctx) => {
    ctx.offset = batch.offsets[0] as number;
    ctx.offsets = batch.offsets;
    // With a timeout the call has a ctx (and a signal) of its own, aborted at its deadline.
    const call = timeoutMs === undefined ? undefined : new TimedContext(ctx, ctx.offset, batch.offsets);
    let result: unknown;
    try {
      result = processBatch(batch.values as never[], state as never, (call ?? ctx) as StageContext);
    } catch (cause) {
      call?.end();
      throw fail(state, thrown(batch, cause));
    }
    if (!isThenable(result)) {
      call?.end();
      return finish(batch, state, result);
    }
    return (timeoutMs === undefined ? Promise.resolve(result) : withDeadline(result, timeoutMs, ctx.signal)).then(
      (value) => {
        if (value !== TIMED_OUT) {
          call?.end();
          return finish(batch, state, value);
        }
        call?.expire(timeoutMs as number);
        const message = `stage "${node}" took longer than ${timeoutMs} ms on the batch at offsets ${span(batch)}`;
        throw fail(state, new StageCallError('STAGE_TIMEOUT', node, message, { offsets: batch.offsets, events: batch.values }));
      },
      (cause: unknown) => {
        call?.end();
        throw fail(state, thrown(batch, cause));
      },
    );
  };
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

const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `promise`, but not longer than `ms`: then answers TIMED_OUT. The promise goes on (JS
 * cannot stop it); the caller aborts the call's `ctx.signal` (a {@link TimedContext}), for code that
 * listens. When the node's signal aborts first (the stage crashed or was abandoned), the wait ends
 * at once with its reason, so that no timer outlives the stage.
 */
function withDeadline<T>(promise: T | PromiseLike<T>, ms: number, node: AbortSignal): Promise<T | typeof TIMED_OUT> {
  const settled = Promise.resolve(promise);
  settled.catch(() => {}); // a rejection after the deadline has nobody left to tell
  if (node.aborted) return Promise.reject(node.reason);
  return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
    const abandoned = (): void => {
      clearTimeout(timer);
      reject(node.reason);
    };
    const timer = setTimeout(() => {
      offAbort(node, abandoned);
      resolve(TIMED_OUT);
    }, ms);
    onAbort(node, abandoned);
    settled.then(
      (value) => {
        clearTimeout(timer);
        offAbort(node, abandoned);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        offAbort(node, abandoned);
        reject(error);
      },
    );
  });
}

function span(batch: Batch): string {
  const first = batch.offsets[0];
  const last = batch.offsets[batch.offsets.length - 1];
  return first === last ? String(first) : `${first}..${last}`;
}
