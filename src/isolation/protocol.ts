/**
 * Messages between a {@link ThreadRunner} (the host, on the pipeline's thread) and the stage worker
 * (`stage-worker.ts`, in a worker thread). Everything here crosses the thread boundary by
 * structured clone, so it holds plain data only.
 */
import type { Batch } from '../core/batch-queue.js';
import type { CallOutcome } from '../stage/run-call.js';

/** What the worker learns at start (`workerData`). */
export interface WorkerInit {
  /** File URL of the module that exports the stage. */
  module: string;
  /** The stage's name: the worker looks for an export with `kind === 'stage'` and this name. */
  stage: string;
  /** Name of the node running the calls (what `ctx.stage` and errors say). */
  node: string;
  /** Lowest pino level value the host writes; the worker does not send records below it. */
  levelValue: number;
  /** Shared with the host: where the worker records the call and the event it runs (`call-progress.ts`). */
  progress: SharedArrayBuffer;
}

/** A thrown value, as far as it survives the trip: enough to rebuild an Error with its message and stack. */
export interface WireCause {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
}

/** A StageCallError from `stageRunner`, as plain data. */
export interface WireCallError {
  code: string;
  stage: string;
  message: string;
  offsets: readonly number[];
  events: readonly unknown[];
  cause: WireCause | undefined;
}

/** A call: the batch and the state to run it from. */
export interface CallMessage {
  type: 'call';
  id: number;
  batch: Batch;
  state: unknown;
}

/** Host → worker. */
export type HostMessage = CallMessage;

/** Worker → host. */
export type WorkerMessage =
  /** The module is loaded and the stage found: calls may come. */
  | { type: 'ready' }
  /** The module could not be imported, or exports no such stage. */
  | { type: 'open-failed'; message: string; cause: WireCause | undefined }
  /** A call succeeded. */
  | { type: 'result'; id: number; outcome: CallOutcome }
  /** A call failed part way: a BatchFailure, as plain data. */
  | { type: 'failure'; id: number; error: WireCallError; committed: CallOutcome; rest: Batch }
  /** A call failed as a whole, outside the stage's own semantics (e.g. its result cannot be sent back). */
  | { type: 'call-error'; id: number; message: string; cause: WireCause | undefined }
  /** A message from the host could not be deserialized in the worker. */
  | { type: 'bad-message'; message: string }
  /** A log record written through `ctx.log` in the worker. */
  | { type: 'log'; level: LogLevel; obj: Record<string, unknown>; msg: string | undefined };

/** The levels the worker's logger forwards. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** pino's standard level values. */
export const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
