import type { Logger } from 'pino';
import { ConfigError } from './core/errors.js';
import { fn, integerIn, knownKeys, name, positiveNumber, record } from './core/validate.js';

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
  /** A fresh initial state for a new instance. */
  initialState(): TState;
}

const KNOWN = ['name', 'initialState', 'process', 'processBatch', 'mailbox', 'maxBatch', 'targetBatchMs'] as const;

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
  const initial = options.initialState;
  const hasState = 'initialState' in opts && initial !== undefined;
  const initialState = makeInitialState(at('initialState'), initial);

  return Object.freeze({
    kind: 'stage' as const,
    name: stageName,
    hasState,
    process,
    processBatch,
    mailbox,
    maxBatch,
    targetBatchMs,
    initialState,
  });
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
