// The public face of a pipeline run: what `createPipeline()` returns.
import type { CompletedCheckpoint, StoredDeadLetter } from '../checkpoint/types.js';
import type { BreakerRegistry } from '../resilience/breaker-registry.js';
import type { AnyStage, Stage } from '../stage.js';
import type { InspectionListener } from './inspection.js';
import type { PipelineObserver } from './observer.js';
import type { ScaleOptions, ScaleResult, SwapOptions } from './reshape.js';
import type { PipelineStats, PipelineStatus } from './stats.js';

/** How `start()` begins a run. */
export interface StartOptions {
  /** A completed checkpoint's id: restore exactly it (all its snapshots must verify), and branch from it. */
  from?: string;
}

/** A running (or runnable) pipeline; create with {@link createPipeline}. */
export interface Pipeline {
  readonly name: string;
  /** Id of this run, in every log line. */
  readonly runId: string;
  readonly status: PipelineStatus;
  /**
   * Settles when the run ends: resolves with the final stats once a finite source is drained and
   * every output delivered (or after a graceful `stop()`); rejects if the source, a sink's open or
   * close, or the stop timeout failed it.
   */
  readonly done: Promise<PipelineStats>;
  /**
   * Opens the stages and sinks, then the source, and starts the flow. Resolves once running.
   * `from`: start from that completed checkpoint instead of the newest (time travel; see
   * docs/checkpointing.md "History and time travel").
   */
  start(options?: StartOptions): Promise<void>;
  /** `start()`, then `done`. */
  run(): Promise<PipelineStats>;
  /** Graceful stop: stop reading the source, drain in-flight events, close sinks. Idempotent. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** For a `pushSource()`: queues an event; resolves once the pipeline accepted it. */
  push(event: unknown): Promise<void>;
  /** Counters per stage and for the whole pipeline. */
  stats(): PipelineStats;
  /** The circuit breakers of this pipeline's stages (for metrics and dashboards). */
  readonly breakers: BreakerRegistry;
  /**
   * Takes a checkpoint now (with the `checkpoint` option); resolves once every stage has written it
   * and the source offset is committed.
   */
  checkpoint(): Promise<CompletedCheckpoint>;
  /** The dead letters stored for this pipeline (events that exhausted retries, or met `deadLetter` mode). */
  deadLetters(): Promise<StoredDeadLetter[]>;
  /**
   * Re-injects dead letters (all, or those given by letter or key) into the stage instances they
   * failed in; resolves with how many went back. They leave the store once a checkpoint covers them.
   */
  replay(letters?: ReadonlyArray<StoredDeadLetter | string>): Promise<number>;
  /** Hears stage calls, restarts, flapping, escalations, breaker transitions and checkpoints; returns the unsubscribe function. */
  observe(listener: PipelineObserver): () => void;
  /** Hears the XState inspection events of the pipeline's actors (stage actors, supervisor); returns the unsubscribe function. */
  inspect(listener: InspectionListener): () => void;
  /**
   * The state of a stage instance after its last successful call (`name` as in `stats().stages`).
   * The type parameter is the caller's claim about that state; it is not checked.
   */
  stageState<TState = unknown>(name: string): TState;
  /** The state of the node running `stage` (a chain node is named after its stage), typed by the stage. */
  stageState<TState>(stage: Stage<never, unknown, TState>): TState;
  /**
   * Runs a stage node on `replicas` instances from now on, without losing an event or reordering
   * events of a key: its producers wait while its replicas drain, then replicas are added (from
   * `initialState()`) or removed (their state is handed back), or all get the states `rebalance`
   * returns. `node` is the graph key, or the stage of a chain.
   */
  scale(node: string | AnyStage, replicas: number, options?: ScaleOptions): Promise<ScaleResult>;
  /**
   * Replaces the logic of a stage node with `stage` while running: calls in flight end, the state
   * is kept (or `migrate`d), events waiting in its mailboxes are handled by the new logic.
   */
  swap(node: string | AnyStage, stage: AnyStage, options?: SwapOptions): Promise<void>;
}
