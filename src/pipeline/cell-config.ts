import type { Logger } from 'pino';
import type { StageFailurePolicy } from '../../machines/stage.machine.js';
import type { Clock } from '../core/clock.js';
import type { SteadfastError } from '../core/errors.js';
import type { CallRunner } from '../stage/run-call.js';
import type { BarrierHooks } from '../checkpointing/barrier.js';
import type { StageGuards } from './resilient-runner.js';
import type { FlowCounter } from './producer.js';
import type { Observers } from './observer.js';
import type { Inspection } from './inspection.js';
import type { NodeCell } from './node-cell.js';

/** The settings of one node instance. */
export interface CellConfig {
  name: string;
  group: string;
  replica: number | undefined;
  kind: 'stage' | 'sink';
  capacity: number;
  maxBatch: number;
  targetBatchMs: number;
  /** Calls in flight at most. */
  concurrency: number;
  /** With concurrent calls: outputs are delivered in the order the calls started. */
  ordered: boolean;
  /** The state a new instance starts from (called when the stage opens; may throw). */
  initialState: () => unknown;
  runner: CallRunner;
  open: () => void | Promise<void>;
  close: () => void | Promise<void>;
  /** What a failed call does: crash the stage so that its supervisor restarts it, or resume. */
  onFailure: StageFailurePolicy;
  /** With `'resume'`: failed events in a row after which the stage restarts all the same (0: never; default 10). */
  restartAfterFailures?: number;
  /** For a variant stage: where the events it fails on go (the main stage), instead of `onError`. */
  fallback?: (values: unknown[], offsets: number[]) => void;
  /** A stage's retry, breaker and degraded mode, for its stats. */
  guards?: StageGuards;
}

/** What a cell reports to its pipeline. */
export interface CellHooks {
  clock: Clock;
  flow: FlowCounter;
  /** Listeners of `pipeline.observe()`: told of every finished call. */
  observers?: Observers;
  log: Logger;
  /** Reports a failure that does not stop the pipeline; `log` is the reporting actor's logger. */
  report(error: SteadfastError, log: Logger): void;
  onComplete(cell: NodeCell): void;
  /** Checkpointing, when the pipeline has it: barriers, snapshots, replay after a restart. */
  barriers?: BarrierHooks;
  /** Told of every actor this cell creates, so that inspection listeners hear it while they listen. */
  inspection?: Pick<Inspection, 'watch'>;
}
