import type { Batch } from '../core/batch-queue.js';
import { setTimer, systemClock, type TimerSource } from '../core/clock.js';
import { StageCallError, describeValue, messageOf } from '../core/errors.js';
import type { Stage, StageContext } from '../stage.js';
import { offAbort, onAbort } from '../resilience/signals.js';
import { TimedContext } from './call-context.js';
import { Outputs } from './outputs.js';
import { BatchFailure, eventFailures, outcomeOf, stackless, type CallOutcome, type CallRunner, type MutableStageContext } from './call-outcome.js';

// The shapes of a call live in call-outcome.ts, the sink's runner in sink-runner.ts; re-exported for their users.
export { BatchFailure, eventFailures, outcomeOf, stackless, type CallOutcome, type CallRunner, type EventFailurePolicy, type MutableStageContext } from './call-outcome.js';
export { sinkRunner } from './sink-runner.js';

const EMPTY: Batch = { values: [], offsets: [] };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The runner of a stage node: per event (`process`) or per batch (`processBatch`). What a failed
 * event does to a per-event call is `ctx.failurePolicy` (without one, it ends the call).
 */
export function stageRunner(stage: Stage, node: string, clock: TimerSource = systemClock): CallRunner {
  const { process, processBatch, timeoutMs } = stage;
  if (processBatch !== undefined) return batchRunner(stage, node, processBatch, clock);
  if (process === undefined) throw new Error(`stage ${stage.name} has neither process nor processBatch`);
  const check = resultChecker(stage, node);
  const failed = eventFailures();

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
        result = timeoutMs === undefined ? await call : await withDeadline(call, timeoutMs, ctx.signal, clock);
      } catch (cause) {
        timed?.end();
        failed(batch, i, state, outputs, thrown(batch, i, cause), ctx);
        continue;
      }
      if (result === TIMED_OUT) {
        timed?.expire(timeoutMs as number);
        failed(batch, i, state, outputs, timedOut(batch, i, timeoutMs as number), ctx);
        continue;
      }
      timed?.end();
      const checked = check(result, batch, i, state);
      if (checked instanceof StageCallError) {
        failed(batch, i, state, outputs, checked, ctx);
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
        failed(batch, i, state, outputs, thrown(batch, i, cause), ctx);
        continue;
      }
      if (call !== undefined) {
        if (isThenable(result)) return finishAsync(batch, i, result, state, outputs, ctx, call);
        call.end();
      }
      if (typeof result !== 'object' || result === null || result instanceof Promise) {
        if (isThenable(result)) return finishAsync(batch, i, result, state, outputs, ctx, undefined);
        failed(batch, i, state, outputs, check(result, batch, i, state) as StageCallError, ctx);
        continue;
      }
      const r = result as { state?: unknown; emit?: unknown };
      const emit = r.emit;
      if (emit === undefined) {
        if (!('state' in r)) {
          if (isThenable(r)) return finishAsync(batch, i, r, state, outputs, ctx, undefined);
          if (hasState) failed(batch, i, state, outputs, check(r, batch, i, state) as StageCallError, ctx);
          continue;
        }
      } else if (!Array.isArray(emit) || (hasState && !('state' in r))) {
        failed(batch, i, state, outputs, check(r, batch, i, state) as StageCallError, ctx);
        continue;
      }
      if (hasState || 'state' in r) state = r.state;
      if (emit !== undefined) outputs.add(i, emit as readonly unknown[]);
    }
    return outcomeOf(state, outputs);
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

function batchRunner(stage: Stage, node: string, processBatch: NonNullable<Stage['processBatch']>, clock: TimerSource): CallRunner {
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
    return (timeoutMs === undefined ? Promise.resolve(result) : withDeadline(result, timeoutMs, ctx.signal, clock)).then(
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

const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `promise`, but not longer than `ms`: then answers TIMED_OUT. The promise goes on (JS
 * cannot stop it); the caller aborts the call's `ctx.signal` (a {@link TimedContext}), for code that
 * listens. When the node's signal aborts first (the stage crashed or was abandoned), the wait ends
 * at once with its reason, so that no timer outlives the stage.
 */
function withDeadline<T>(promise: T | PromiseLike<T>, ms: number, node: AbortSignal, clock: TimerSource): Promise<T | typeof TIMED_OUT> {
  const settled = Promise.resolve(promise);
  settled.catch(() => {}); // a rejection after the deadline has nobody left to tell
  if (node.aborted) return Promise.reject(node.reason);
  return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
    const abandoned = (): void => {
      cancel();
      reject(node.reason);
    };
    const cancel = setTimer(clock, ms, () => {
      offAbort(node, abandoned);
      resolve(TIMED_OUT);
    });
    onAbort(node, abandoned);
    settled.then(
      (value) => {
        cancel();
        offAbort(node, abandoned);
        resolve(value);
      },
      (error: unknown) => {
        cancel();
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
