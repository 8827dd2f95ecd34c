import { systemClock, type TimerSource } from '../core/clock.js';
import type { Batch } from '../core/batch-queue.js';
import { AbortedError, RetryExhaustedError, StageCallError, TimeoutError, messageOf } from '../core/errors.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { Policy, Work } from '../resilience/policy.js';
import { forwarding, type StopSource } from '../resilience/signals.js';
import type { GuardsSnapshot } from '../resilience/guards-snapshot.js';
import type { ResolvedDegraded } from '../resilience/stage-resilience-options.js';

export type { GuardsSnapshot };
import type { Stage, StageContext } from '../stage.js';
import { POISON_WARNING_AFTER, closedPauseMs, holdFor, pause, untilCallsPass } from './backpressure.js';
import { TimedContext } from '../stage/call-context.js';
import { LruCache } from './lru-cache.js';
import { Outputs } from '../stage/outputs.js';
import { unwrapLetter } from './replayed-letter.js';
import { BatchFailure, eventFailures, outcomeOf, resultChecker, stackless, type CallOutcome, type CallRunner, type MutableStageContext } from '../stage/run-call.js';

/** A stage's resilience at run time: its policy (retry, breaker, timeout), degraded mode and counters. */
export interface StageGuards {
  /** Runs one call under the stage's retry, breaker and timeout, in that order (outermost first). */
  policy: Policy;
  breaker: CircuitBreaker | undefined;
  degraded: ResolvedDegraded | undefined;
  counters: { retries: number; degraded: number; deadLetters: number };
  /** Reports an event sent to the dead letters. */
  deadLetter: (error: StageCallError) => void;
  /** The breaker's state and the counters, for a checkpoint. */
  save(): GuardsSnapshot;
  /** Puts back what `save()` returned (the breaker is rebuilt from its saved state). */
  load(saved: GuardsSnapshot): void;
}


type Handled = { state: unknown; emit: readonly unknown[] } | undefined;

/**
 * The runner of a stage with `retry`, `breaker` or a timeout policy: each call (one event with
 * `process`, the batch with `processBatch`) runs under the stage's policy; a call that still fails
 * (retries exhausted, breaker open) is handled by the stage's degraded mode when it has one, or
 * fails as usual (the stage restarts or resumes).
 */
export function resilientRunner(stage: Stage, node: string, guards: StageGuards, clock: TimerSource = systemClock): CallRunner {
  const check = resultChecker(stage, node);
  const failed = eventFailures();
  const cache = cacheOf(guards.degraded);
  const fallbackFn = fallbackOf(guards.degraded);
  const mode = modeOf(guards.degraded, stage, cache, fallbackFn);

  const timed = stage.timeoutMs !== undefined;
  /**
   * What the policy runs for one call. With a timeout the work takes the Stop the timeout policy
   * makes for each attempt and gives the stage a ctx whose signal is that Stop's: aborted at the
   * attempt's deadline (or with the node's signal, which the policy gets as the caller's), and fresh
   * for the next attempt. Without one, the node's ctx as it is: no AbortController per call.
   */
  const workOf = (ctx: MutableStageContext, offset: number, offsets: readonly number[], run: (ctx: MutableStageContext) => unknown): Work<unknown> =>
    timed ? forwarding(((source: StopSource | undefined) => run(new TimedContext(ctx, offset, offsets, source))) as never) : () => run(ctx);

  /**
   * Runs `call` under the policy. With `backpressure` a call that fails while the dependency is
   * down is held and tried again, never dropped: after the breaker half-opens when it is open, or
   * after a short pause while it is still closed (its trip conditions need more failures). Only an
   * error the breaker does not count, or the stage being abandoned (`ctx.signal`), ends the hold.
   */
  const guarded = async (call: Work<unknown>, ctx: MutableStageContext, replayed = false): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> => {
    let closedFailures = 0;
    for (;;) {
      try {
        return { ok: true, value: await guards.policy.execute(call, timed ? ctx.signal : undefined) };
      } catch (error) {
        const breaker = guards.breaker;
        if (replayed && breaker !== undefined && !ctx.signal.aborted) {
          // A replayed dead letter refused by the breaker (restored open, say) waits for it: sending
          // it back to the dead letters without a call would make a replay a no-op.
          const hold = holdFor(breaker, error);
          if (hold?.kind === 'refused') {
            await untilCallsPass(breaker, hold, ctx.signal);
            if (ctx.signal.aborted) return { ok: false, error: new AbortedError(ctx.signal.reason) };
            continue;
          }
        }
        if (mode !== 'backpressure' || breaker === undefined) return { ok: false, error };
        const hold = holdFor(breaker, error);
        if (hold === undefined || ctx.signal.aborted) return { ok: false, error };
        if (hold.kind === 'closed') {
          closedFailures++;
          if (closedFailures === POISON_WARNING_AFTER) {
            ctx.log.warn(
              { err: error, offset: ctx.offset, failures: closedFailures },
              `offset ${ctx.offset} failed ${closedFailures} times in a row while breaker "${breaker.name}" stayed closed: it may be poison; backpressure keeps trying it (see docs/stage-resilience.md)`,
            );
          }
          await pause(closedPauseMs(closedFailures, breaker), ctx.signal, clock);
        } else {
          closedFailures = 0;
          await untilCallsPass(breaker, hold, ctx.signal);
        }
        if (ctx.signal.aborted) return { ok: false, error: new AbortedError(ctx.signal.reason) };
        guards.counters.retries++;
      }
    }
  };

  /** The degraded handling of an event (or a batch) that failed, or undefined when it has none. */
  const degrade = async (events: readonly unknown[], state: unknown, ctx: MutableStageContext, error: StageCallError): Promise<Handled> => {
    switch (mode) {
      case 'skip':
        return { state, emit: events };
      case 'fallback': {
        const emit: unknown[] = [];
        let current = state;
        for (const event of events) {
          const result = (await (fallbackFn as NonNullable<typeof fallbackFn>)(event, current, ctx as StageContext)) as { state?: unknown; emit?: readonly unknown[] };
          if (stage.hasState || (typeof result === 'object' && result !== null && 'state' in result)) current = result.state;
          if (Array.isArray(result?.emit)) emit.push(...result.emit);
        }
        return { state: current, emit };
      }
      case 'cache': {
        const emit: unknown[] = [];
        for (const event of events) {
          const hit = (cache as LruCache).get((cache as LruCache).keyOf(event));
          if (hit === undefined) return undefined;
          emit.push(...hit);
        }
        return { state, emit };
      }
      case 'deadLetter':
        guards.counters.deadLetters += events.length;
        // The failure's own message, then what was done with it: its cause once (the chain is in `cause`).
        guards.deadLetter(new StageCallError('DEAD_LETTER', node, `${error.message} (${events.length === 1 ? 'the event was' : `${events.length} events were`} sent to the dead letters)`, error, error));
        return { state, emit: [] };
      default:
        return undefined;
    }
  };

  const remember = (event: unknown, emit: readonly unknown[] | undefined) => {
    if (cache !== undefined && emit !== undefined) cache.set(cache.keyOf(event), emit);
  };

  const { process, processBatch } = stage;
  if (processBatch !== undefined) {
    return async (given, state, ctx) => {
      const batch = unwrapBatch(given);
      ctx.offset = batch.offsets[0] as number;
      ctx.offsets = batch.offsets;
      const work = workOf(ctx, ctx.offset, batch.offsets, (callCtx) => processBatch(batch.values as never[], state as never, callCtx as StageContext));
      const outcome = await guarded(work, ctx, batch.replayed);
      if (outcome.ok) {
        const checked = check(outcome.value, batch, batch.values.length - 1, state);
        if (checked instanceof StageCallError) throw new BatchFailure(wholeBatch(checked, batch), { state, values: [], offsets: [] }, EMPTY);
        const emit = checked.emit ?? [];
        const last = batch.offsets[batch.offsets.length - 1] as number;
        return { state: checked.state, values: [...emit], offsets: new Array<number>(emit.length).fill(last) };
      }
      const failed = callError(node, outcome.error, batch.values, batch.offsets);
      const handled = await degrade(batch.values, state, ctx, failed);
      if (handled === undefined) throw new BatchFailure(failed, { state, values: [], offsets: [] }, EMPTY);
      guards.counters.degraded += batch.values.length;
      const last = batch.offsets[batch.offsets.length - 1] as number;
      return { state: handled.state, values: [...handled.emit], offsets: new Array<number>(handled.emit.length).fill(last) };
    };
  }
  if (process === undefined) throw new Error(`stage ${stage.name} has neither process nor processBatch`);

  return async (batch, initial, ctx): Promise<CallOutcome> => {
    const outputs = new Outputs(batch, ctx.failuresInRow);
    let state = initial;
    ctx.offsets = batch.offsets;
    for (let i = 0; i < batch.values.length; i++) {
      const offset = batch.offsets[i] as number;
      ctx.offset = offset;
      const { event, replayed } = unwrapLetter(batch.values[i]);
      const outcome = await guarded(
        workOf(ctx, offset, batch.offsets, (callCtx) => process(event as never, state as never, callCtx as StageContext)),
        ctx,
        replayed,
      );
      if (outcome.ok) {
        const checked = check(outcome.value, batch, i, state);
        if (checked instanceof StageCallError) {
          failed(batch, i, state, outputs, checked, ctx);
          continue;
        }
        state = checked.state;
        if (checked.emit !== undefined) outputs.add(i, checked.emit);
        remember(event, checked.emit);
        continue;
      }
      const error = callError(node, outcome.error, [event], [batch.offsets[i] as number]);
      const handled = await degrade([event], state, ctx, error);
      if (handled === undefined) {
        failed(batch, i, state, outputs, error, ctx);
        continue;
      }
      guards.counters.degraded++;
      state = handled.state;
      outputs.add(i, handled.emit);
    }
    return outcomeOf(state, outputs);
  };
}

const EMPTY: Batch = { values: [], offsets: [] };

/** A batch with replayed dead letters unwrapped, and whether it held any. */
function unwrapBatch(batch: Batch): Batch & { replayed: boolean } {
  let replayed = false;
  const values = batch.values.map((value) => {
    const letter = unwrapLetter(value);
    replayed ||= letter.replayed;
    return letter.event;
  });
  return replayed ? { values, offsets: batch.offsets, replayed } : { ...batch, replayed };
}

type Mode = 'skip' | 'fallback' | 'cache' | 'deadLetter' | 'backpressure' | undefined;

function modeOf(degraded: ResolvedDegraded | undefined, stage: Stage, cache: LruCache | undefined, fallback: unknown): Mode {
  if (degraded === undefined) return undefined;
  if (degraded.kind !== 'auto') return degraded.kind;
  if (fallback !== undefined) return 'fallback';
  if (cache !== undefined) return 'cache';
  return stage.hasState ? 'deadLetter' : 'skip';
}

function cacheOf(degraded: ResolvedDegraded | undefined): LruCache | undefined {
  if (degraded?.kind === 'cache') return new LruCache(degraded.size, degraded.key);
  if (degraded?.kind === 'auto' && degraded.cache !== undefined) return new LruCache(degraded.cache.size, degraded.cache.key);
  return undefined;
}

function fallbackOf(degraded: ResolvedDegraded | undefined) {
  if (degraded?.kind === 'fallback') return degraded.fallback;
  if (degraded?.kind === 'auto') return degraded.fallback;
  return undefined;
}

/** The failure of a call as a StageCallError: a timeout keeps its code, anything else is STAGE_CALL_FAILED. */
function callError(node: string, error: unknown, events: readonly unknown[], offsets: readonly number[]): StageCallError {
  const root = error instanceof RetryExhaustedError ? error.cause : error;
  const code = root instanceof TimeoutError ? 'STAGE_TIMEOUT' : 'STAGE_CALL_FAILED';
  const at = offsets.length === 1 ? `offset ${offsets[0]}` : `offsets ${offsets[0]}..${offsets[offsets.length - 1]}`;
  return stackless(() => new StageCallError(code, node, `stage "${node}" failed at ${at}: ${messageOf(error)}`, { offsets, events }, error));
}

function wholeBatch(invalid: StageCallError, batch: Batch): StageCallError {
  return new StageCallError('STAGE_RESULT_INVALID', invalid.stage, invalid.message, { offsets: batch.offsets, events: batch.values });
}
