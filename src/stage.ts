import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError } from './core/errors.js';
import { fn, integerIn, knownKeys, name, oneOf, positiveNumber, record } from './core/validate.js';
import type { CircuitBreakerOptions } from './resilience/circuit-breaker-options.js';
import type { RetryOptions } from './resilience/retry-options.js';
import { checkBreaker, checkRetry, resolveDegraded, type ResolvedDegraded } from './resilience/stage-resilience-options.js';

/** What a stage call sees besides the event and the state. */
export interface StageContext {
  /** Name of the node running the call (the stage name, or the graph key; replicas add `#i`). */
  readonly stage: string;
  /** Source offset of the event (`process`) or of the first event of the batch (`processBatch`). */
  readonly offset: number;
  /** Source offsets of the batch (`processBatch`); for `process`, the batch the event arrived in. */
  readonly offsets: readonly number[];
  /** Aborted when the stage is stopped or abandoned; pass it to I/O so that it can be cancelled. */
  readonly signal: AbortSignal;
  /** Child logger with `pipeline`, `stage` and `actorId` bound. */
  readonly log: Logger;
}

/**
 * What a stage call returns: the new state and the outputs to send downstream. A stage without
 * state (its state type includes `undefined`) may leave `state` out.
 */
export type StageResult<TState, TOut> = undefined extends TState
  ? { state?: TState; emit?: readonly TOut[] }
  : { state: TState; emit?: readonly TOut[] };

type Awaitable<T> = T | Promise<T>;

/** Options of {@link defineStage}. Give exactly one of `process` and `processBatch`. */
export interface StageOptions<TIn, TOut, TState> {
  /** Used in logs, metrics and checkpoint keys: letters, digits, `_ . : -`. */
  name: string;
  /** The state a new instance starts from: a function returning it, or a value that is cloned per instance. */
  initialState?: TState | (() => TState);
  /** Handles one event. Throwing or rejecting leaves the previous state in place. */
  process?: (event: TIn, state: TState, ctx: StageContext) => Awaitable<StageResult<TState, TOut>>;
  /** Handles a whole batch in one call. Throwing or rejecting leaves the previous state in place. */
  processBatch?: (events: readonly TIn[], state: TState, ctx: StageContext) => Awaitable<StageResult<TState, TOut>>;
  /** Events the mailbox holds before upstream must wait (default from the pipeline mode). */
  mailbox?: number;
  /** Most events one call takes (default from the pipeline mode). */
  maxBatch?: number;
  /** Batch size adapts so a call lasts about this long (default from the pipeline mode). */
  targetBatchMs?: number;
  /**
   * Calls in flight at most (default 1): a stage that waits on the outside world (an HTTP API)
   * runs up to this many calls at once. Only for a stage without state: a stateful stage's state
   * is the input of its next call. Checkpoints stay exact: a barrier passes once every call before
   * it has finished.
   */
  concurrency?: number;
  /** With `concurrency`: outputs keep input order (default `true`); `false` emits each call's outputs as it finishes. */
  ordered?: boolean;
  /**
   * Where calls run: `'inline'` (default) on the pipeline's thread, or `'thread'` in a worker thread
   * that can be terminated when a call overruns `timeoutMs` (the only way to stop a stage stuck in
   * synchronous code) and whose heap `resourceLimits` bounds. A thread stage needs `module`.
   */
  isolation?: StageIsolation;
  /** With `isolation: 'thread'`: the module that exports this stage (the worker imports it), e.g. `import.meta.url`. */
  module?: string | URL;
  /** Longest a call may take; an overrun is a failure of the stage (for an inline stage, only async calls can be timed out). */
  timeoutMs?: number;
  /** With `isolation: 'thread'`: heap and stack limits of the worker (see node:worker_threads). */
  resourceLimits?: StageResourceLimits;
  /**
   * What a failed event (throw, rejection, malformed result, timeout) does: `'resume'` (default)
   * reports it (`onError`, or the log) and goes on with the next event and the state from before
   * it; `'restart'` crashes the stage and its supervisor restarts it from its starting state (or
   * its last snapshot). A stage that keeps failing is broken, not fed bad input: under `'resume'`,
   * `restartAfterFailures` failed events in a row restart it all the same.
   */
  onFailure?: StageFailurePolicy;
  /** Under `onFailure: 'resume'`: failed events (or failed `processBatch` calls) in a row that restart the stage (default 10; 0 never). */
  restartAfterFailures?: number;
  /** Retries a failed call (per event with `process`, per batch with `processBatch`) before it counts as failed. */
  retry?: RetryOptions;
  /** A circuit breaker around the stage's calls (its name is `<pipeline>.<node>`); `true` for the defaults. */
  breaker?: StageBreakerOptions | true;
  /**
   * What happens to an event while the breaker is open or once its retries are exhausted, instead
   * of a failure: see {@link DegradedMode}.
   */
  degraded?: DegradedMode<TIn, TOut, TState>;
}

/** A stage's breaker options: a breaker's, without the name (the pipeline names it) and registry. */
export type StageBreakerOptions = Omit<CircuitBreakerOptions, 'name' | 'registry' | 'initialState'>;

/**
 * How a stage degrades while its dependency is down:
 * - `'skip'`: the event passes through unchanged (as the stage's output), the state stays;
 * - `{ fallback }`: another function handles the event (same signature as `process`);
 * - `{ cache: { key, size } }`: the outputs last produced for the event's key (a bounded LRU);
 *   an event whose key was never seen fails as usual;
 * - `'deadLetter'`: the event is reported as a dead letter (DEAD_LETTER) and the stage goes on;
 * - `'backpressure'` (needs a `breaker`): nothing is dropped; an event whose call fails is held and
 *   tried again, after the breaker half-opens when it is open, after a short pause while it is
 *   closed (its mailbox fills, its producers wait); an error the breaker does not count fails as usual;
 * - `'auto'`: `fallback` if given, else the cache if a key is given, else `skip` for a stage
 *   without state and `deadLetter` for one with state.
 */
export type DegradedMode<TIn = unknown, TOut = unknown, TState = unknown> =
  | 'skip'
  | 'deadLetter'
  | 'backpressure'
  | 'auto'
  | { fallback: (event: TIn, state: TState, ctx: StageContext) => Awaitable<StageResult<TState, TOut>> }
  | { cache: { key: (event: TIn) => unknown; size?: number } }
  | { auto: true; fallback?: (event: TIn, state: TState, ctx: StageContext) => Awaitable<StageResult<TState, TOut>>; cache?: { key: (event: TIn) => unknown; size?: number } };

/** What a failed call does to a stage. */
export type StageFailurePolicy = 'restart' | 'resume';

/** Where a stage's calls run. */
export type StageIsolation = 'inline' | 'thread';

/** Limits of a thread stage's worker, as node:worker_threads `resourceLimits`. */
export interface StageResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  codeRangeSizeMb?: number;
  stackSizeMb?: number;
}

/** A validated stage definition; create with {@link defineStage}. */
export interface Stage<TIn = unknown, TOut = unknown, TState = unknown> {
  readonly kind: 'stage';
  readonly name: string;
  readonly hasState: boolean;
  readonly process: StageOptions<TIn, TOut, TState>['process'];
  readonly processBatch: StageOptions<TIn, TOut, TState>['processBatch'];
  readonly mailbox: number | undefined;
  readonly maxBatch: number | undefined;
  readonly targetBatchMs: number | undefined;
  /** Calls in flight at most. */
  readonly concurrency: number;
  /** Outputs keep input order across concurrent calls. */
  readonly ordered: boolean;
  readonly isolation: StageIsolation;
  /** The module exporting this stage, as a file URL string (thread stages). */
  readonly module: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly resourceLimits: Readonly<StageResourceLimits> | undefined;
  readonly onFailure: StageFailurePolicy;
  readonly restartAfterFailures: number;
  readonly retry: RetryOptions | undefined;
  readonly breaker: StageBreakerOptions | undefined;
  readonly degraded: ResolvedDegraded | undefined;
  /** A fresh initial state for a new instance. */
  initialState(): TState;
}

const KNOWN = [
  'name',
  'initialState',
  'process',
  'processBatch',
  'mailbox',
  'maxBatch',
  'targetBatchMs',
  'concurrency',
  'ordered',
  'isolation',
  'module',
  'timeoutMs',
  'resourceLimits',
  'onFailure',
  'restartAfterFailures',
  'retry',
  'breaker',
  'degraded',
] as const;
const LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/**
 * Defines a pipeline stage: user logic from an initial state and a `process` (or `processBatch`)
 * function returning the new state and the outputs. Options are checked here, so a mistake fails
 * at definition time with a CONFIG_INVALID error naming the field.
 *
 * @example
 * const count = defineStage({
 *   name: 'count',
 *   initialState: () => ({ n: 0 }),
 *   process: (event: { id: string }, state) => ({ state: { n: state.n + 1 }, emit: [event.id] }),
 * });
 */
export function defineStage<TIn = unknown, TOut = unknown, TState = undefined>(
  options: StageOptions<TIn, TOut, TState>,
): Stage<TIn, TOut, TState> {
  const opts = record('stage options', options);
  knownKeys('stage', opts, KNOWN);
  const stageName = name('stage.name', opts.name);
  const at = (field: string) => `stage "${stageName}".${field}`;
  if ((opts.process === undefined) === (opts.processBatch === undefined)) {
    throw new ConfigError(at('process'), opts.process ?? opts.processBatch, 'exactly one of process and processBatch must be given');
  }
  const process = opts.process === undefined ? undefined : fn<NonNullable<StageOptions<TIn, TOut, TState>['process']>>(at('process'), opts.process);
  const processBatch =
    opts.processBatch === undefined
      ? undefined
      : fn<NonNullable<StageOptions<TIn, TOut, TState>['processBatch']>>(at('processBatch'), opts.processBatch);
  const mailbox = opts.mailbox === undefined ? undefined : integerIn(at('mailbox'), opts.mailbox, 1, 1 << 24);
  const maxBatch = opts.maxBatch === undefined ? undefined : integerIn(at('maxBatch'), opts.maxBatch, 1, 1 << 20);
  if (mailbox !== undefined && maxBatch !== undefined && maxBatch > mailbox) {
    throw new ConfigError(at('maxBatch'), maxBatch, `must be <= mailbox (${mailbox})`);
  }
  const targetBatchMs = opts.targetBatchMs === undefined ? undefined : positiveNumber(at('targetBatchMs'), opts.targetBatchMs);
  const isolation = opts.isolation === undefined ? 'inline' : oneOf(at('isolation'), opts.isolation, ['inline', 'thread'] as const);
  const module = isolation === 'thread' ? moduleUrl(at('module'), opts.module) : undefined;
  if (isolation === 'inline' && opts.module !== undefined) throw new ConfigError(at('module'), opts.module, "is for isolation: 'thread' only");
  const timeoutMs = opts.timeoutMs === undefined ? undefined : positiveNumber(at('timeoutMs'), opts.timeoutMs);
  let resourceLimits: StageResourceLimits | undefined;
  if (opts.resourceLimits !== undefined) {
    if (isolation !== 'thread') throw new ConfigError(at('resourceLimits'), opts.resourceLimits, "is for isolation: 'thread' only");
    const limits = record(at('resourceLimits'), opts.resourceLimits);
    knownKeys(at('resourceLimits'), limits, LIMITS);
    resourceLimits = {};
    for (const key of LIMITS) {
      if (limits[key] !== undefined) resourceLimits[key] = positiveNumber(at(`resourceLimits.${key}`), limits[key]);
    }
    Object.freeze(resourceLimits);
  }
  const onFailure = opts.onFailure === undefined ? 'resume' : oneOf(at('onFailure'), opts.onFailure, ['restart', 'resume'] as const);
  const restartAfterFailures = opts.restartAfterFailures === undefined ? 10 : integerIn(at('restartAfterFailures'), opts.restartAfterFailures, 0, 1_000_000_000);
  if (onFailure === 'restart' && opts.restartAfterFailures !== undefined) {
    throw new ConfigError(at('restartAfterFailures'), opts.restartAfterFailures, "is for onFailure: 'resume' (with 'restart' every failed event restarts the stage)");
  }
  const retry = opts.retry === undefined ? undefined : checkRetry(at('retry'), opts.retry);
  const breaker = opts.breaker === undefined ? undefined : checkBreaker(at('breaker'), opts.breaker, stageName);
  const degraded = opts.degraded === undefined ? undefined : resolveDegraded(at('degraded'), opts.degraded);
  if (isolation === 'thread' && (retry !== undefined || breaker !== undefined)) {
    throw new ConfigError(at(retry !== undefined ? 'retry' : 'breaker'), opts.retry ?? opts.breaker, "is not supported with isolation: 'thread' yet (the calls run whole batches in the worker)");
  }
  if (degraded !== undefined && retry === undefined && breaker === undefined) {
    throw new ConfigError(at('degraded'), opts.degraded, 'needs a `retry` or a `breaker`: it applies while the breaker is open or once retries are exhausted');
  }
  if (degraded?.kind === 'backpressure' && breaker === undefined) {
    throw new ConfigError(at('degraded'), opts.degraded, "needs a `breaker`: 'backpressure' holds an event until the breaker lets calls through again");
  }
  const initial = options.initialState;
  const hasState = 'initialState' in opts && initial !== undefined;
  const initialState = makeInitialState(at('initialState'), initial);
  const concurrency = opts.concurrency === undefined ? 1 : integerIn(at('concurrency'), opts.concurrency, 1, 1024);
  if (concurrency > 1 && hasState) {
    throw new ConfigError(at('concurrency'), concurrency, 'must be 1 for a stage with state: each call takes the state the one before it left (keep the state elsewhere, or drop `initialState`)');
  }
  if (concurrency > 1 && isolation === 'thread') {
    throw new ConfigError(at('concurrency'), concurrency, "must be 1 with isolation: 'thread' (the worker runs one call at a time)");
  }
  if (opts.ordered !== undefined && typeof opts.ordered !== 'boolean') throw new ConfigError(at('ordered'), opts.ordered, 'must be true or false');
  const ordered = opts.ordered !== false;

  return Object.freeze({
    kind: 'stage' as const,
    name: stageName,
    hasState,
    process,
    processBatch,
    mailbox,
    maxBatch,
    targetBatchMs,
    concurrency,
    ordered,
    isolation,
    module,
    timeoutMs,
    resourceLimits,
    onFailure,
    restartAfterFailures,
    retry,
    breaker,
    degraded,
    initialState,
  });
}

/** A module location as a file URL string: a URL, a file: URL string, or an absolute path. */
function moduleUrl(field: string, value: unknown): string {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw new ConfigError(field, value.href, 'must be a file: URL');
    return value.href;
  }
  if (typeof value === 'string' && value.startsWith('file:')) return value;
  if (typeof value === 'string' && isAbsolute(value)) return pathToFileURL(value).href;
  throw new ConfigError(field, value, "must be given with isolation: 'thread': the module exporting the stage, as a file URL (import.meta.url) or an absolute path");
}

function makeInitialState<TState>(field: string, initial: TState | (() => TState) | undefined): () => TState {
  if (typeof initial === 'function') return initial as () => TState;
  if (initial === undefined || initial === null || typeof initial !== 'object') return () => initial as TState;
  let snapshot: TState;
  try {
    // Taken now, so that changing the caller's object later does not change new instances.
    snapshot = structuredClone(initial);
  } catch (error) {
    throw new ConfigError(field, initial, `must be a function or a cloneable value (${(error as Error).message})`);
  }
  return () => structuredClone(snapshot);
}

/** Any stage, whatever its event, output and state types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStage = Stage<any, any, any>;

/** True when `value` was made by {@link defineStage}. */
export function isStage(value: unknown): value is Stage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'stage';
}
