// The public API of steadfast: every name here is part of the contract in DESIGN.md.

export { defineStage, isStage } from './stage.js';
export type { Stage, StageOptions, StageContext, StageResult, StageIsolation, StageResourceLimits } from './stage.js';

import { createPipeline as createPipelineIn } from './pipeline/pipeline.js';
import { exitProcess } from './cli/exit-process.js';
import type { Pipeline, PipelineOptions } from './pipeline/pipeline.js';

/**
 * Creates a pipeline: a source, stages running as XState actors with bounded mailboxes and credit
 * between them, and a sink. Options are checked here; nothing runs until `start()`.
 *
 * @example
 * const sink = toArray();
 * const pipeline = createPipeline({ name: 'orders', source: fromIterable(orders), stages: [parse, enrich], sink });
 * await pipeline.start();
 * await pipeline.done;
 */
export function createPipeline<TIn>(options: PipelineOptions<TIn>): Pipeline {
  // The entry owns the process: `supervision.exitOnEscalate` ends it through the CLI's exit.
  return createPipelineIn(options, { exit: exitProcess });
}
export type { Pipeline, PipelineOptions, AnyStage } from './pipeline/pipeline.js';
export type { StartOptions } from './pipeline/pipeline-api.js';
export type { InspectionListener } from './pipeline/inspection.js';
export type { GraphSpec, StageNodeSpec, SinkNodeSpec, InputSpec, PartitionSpec } from './pipeline/graph.js';
export { MODES } from './pipeline/modes.js';
export type { PipelineMode, ModePreset } from './pipeline/modes.js';
export type { PipelineStats, StageStats, PipelineStatus } from './pipeline/stats.js';

export { fromIterable } from './sources/from-iterable.js';
export { fromAsyncIterable } from './sources/from-async-iterable.js';
export { pushSource } from './sources/push-source.js';
export type { PushSource, PushSourceOptions } from './sources/push-source.js';
export { fromNdjson } from './sources/from-ndjson.js';
export type { NdjsonSourceOptions } from './sources/from-ndjson.js';
export type { Source, SourceReader, SourceOpenOptions } from './sources/source.js';

export { toArray } from './sinks/to-array.js';
export type { ArraySink } from './sinks/to-array.js';
export { toFunction } from './sinks/to-function.js';
export type { SinkFunction } from './sinks/to-function.js';
export { toNdjson } from './sinks/to-ndjson.js';
export type { NdjsonSinkOptions } from './sinks/to-ndjson.js';
export type { Sink } from './sinks/sink.js';

export {
  SteadfastError,
  ConfigError,
  StageCallError,
  SinkWriteError,
  SourceParseError,
  CircuitOpenError,
  TimeoutError,
  BulkheadRejectedError,
  RetryExhaustedError,
  AbortedError,
  CheckpointStoreError,
  isSteadfastError,
} from './core/errors.js';
export type { SteadfastErrorCode, StageCallErrorCode, CheckpointStoreErrorCode } from './core/errors.js';
export type { Batch } from './core/batch-queue.js';
export type { CancelTimer, Clock, TimerOptions } from './core/clock.js';
export { SimulatedClock } from './core/simulated-clock.js';
export { fnv1a32, fnv1a64, fnv1a64Bytes } from './core/fnv1a.js';

export { createCheckpointStore } from './checkpoint/create-store.js';
export type { CheckpointStoreOptions } from './checkpoint/create-store.js';
export type {
  CheckpointStore,
  CodecName,
  Snapshot,
  CompletedCheckpoint,
  DeadLetter,
  StoredDeadLetter,
  ReadResult,
  WriteReceipt,
  WriteOptions,
  RawEntry,
} from './checkpoint/types.js';
export { checkpointHistory, readCheckpointStates } from './checkpoint/history.js';
export type { CheckpointRecord, CheckpointStates } from './checkpoint/history.js';
export { forkStore } from './checkpoint/fork-store.js';
export type { ForkOptions, ForkReport } from './checkpoint/fork-store.js';
export { diffJson, applyJsonDiff, formatJsonPath } from './checkpoint/json-diff.js';
export type { JsonChange, JsonPath } from './checkpoint/json-diff.js';

export { createSupervisor, supervisorChild, Supervisor } from './supervision/supervisor.js';
export type { SupervisorStats } from './supervision/supervisor.js';
export type { SupervisorOptions } from './supervision/options.js';
export type { Child, ChildSpec, ChildStartContext, ChildDescription } from './supervision/child.js';
export type { PipelineSupervision } from './pipeline/options.js';
export { machineChild } from './machine-stage/machine-child.js';
export type { MachineChildOptions, MachineChildCheckpoint } from './machine-stage/machine-child.js';
export { persistActorTree } from './machine-stage/persist-actor-tree.js';
export type { PersistActorTreeOptions } from './machine-stage/persist-actor-tree.js';
export { restoreActorTree } from './machine-stage/restore-actor-tree.js';
export type { RestoreActorTreeOptions } from './machine-stage/restore-actor-tree.js';
export { invocationId } from './machine-stage/tree-tracker.js';
export { MachinePersistError, MachineRestoreError } from './machine-stage/machine-errors.js';
export type { PersistedActorTree, PersistedDelayedEvent, PendingInvocation, ActorPath, TimerPolicy } from './machine-stage/persisted-actor-tree.js';
export type { ScaleOptions, ScaleResult, SwapOptions } from './pipeline/reshape.js';
export type { VariantSpec } from './pipeline/variants.js';
export { supervisorMachine } from '../supervisors/supervisor.machine.js';
export type { Escalation, EscalationReason, SupervisorEmitted, SupervisorStateValue } from '../supervisors/supervisor.machine.js';
export type { RestartType, ExitKind } from '../supervisors/restart-decision.js';
export type { Strategy } from '../supervisors/strategies.js';
export type { FlapPattern, FlapOptions } from '../supervisors/flapping.js';
export type { BackoffOptions } from './core/backoff.js';

export { circuitBreaker, CircuitBreaker } from './resilience/circuit-breaker.js';
export type { BreakerSnapshot, BreakerStats } from './resilience/circuit-breaker.js';
export type { CircuitBreakerOptions } from './resilience/circuit-breaker-options.js';
export { BreakerRegistry, breakers } from './resilience/breaker-registry.js';
export type { TripOptions, TripReason } from './core/breaker-windows.js';
export { circuitBreakerMachine } from '../machines/circuit-breaker.machine.js';
export type { BreakerState, OpenReason, CircuitBreakerEmitted, CircuitBreakerEvent } from '../machines/circuit-breaker.machine.js';
export { retry, retryAndContinue } from './resilience/retry.js';
export type { RetryPolicy, RetryAndContinueOptions } from './resilience/retry.js';
export { defaultRetryOn, RETRY_DEFAULTS } from './resilience/retry-options.js';
export type { RetryOptions, RetryBackoff, RetryInfo } from './resilience/retry-options.js';
export { presets } from './resilience/presets.js';
export type { RetryPreset, RetryPresetName } from './resilience/presets.js';
export { timeout } from './resilience/timeout.js';
export type { TimeoutOptions, TimeoutPolicy } from './resilience/timeout.js';
export { bulkhead } from './resilience/bulkhead.js';
export type { BulkheadOptions, BulkheadPolicy } from './resilience/bulkhead.js';
export { wrap } from './resilience/wrap.js';
export type { WrappedPolicy } from './resilience/wrap.js';
export type { Policy, Work } from './resilience/policy.js';

export { stageMachine } from '../machines/stage.machine.js';
export type { StageMachineContext, StageMachineEvent, StageStateValue, StageFailurePolicy, MailboxView } from '../machines/stage.machine.js';

export { serve } from './observability/server.js';
export type { ServeOptions, ObservabilityServer, SseStats } from './observability/server.js';
export { createMetrics } from './observability/metrics.js';
export type { Metrics, MetricsOptions } from './observability/metrics.js';
export { createHealthMonitor } from './observability/health.js';
export type { HealthMonitor, HealthReport, PipelineHealth, StageHealth } from './observability/health.js';
export type { HealthOptions, StageWeights } from './observability/health-options.js';
export type { StageHealthStatus, SystemState } from './observability/health-rules.js';
export type { ObservedPipeline } from './observability/tracked-pipeline.js';
export type { TreeSnapshot, DashboardSnapshot } from './observability/dashboard-feed.js';
export type { PipelineNode, SupervisorNode, WorkerNode, LastCheckpoint } from './observability/tree.js';
export type { InspectedEntry } from './observability/inspection-log.js';
export type {
  PipelineObservation,
  PipelineObserver,
  CallObserved,
  RestartObserved,
  FlappingObserved,
  EscalationObserved,
  BreakerObserved,
  CheckpointWrittenObserved,
  CheckpointCorruptObserved,
} from './pipeline/observer.js';

export { checkpointMachine } from '../machines/checkpoint.machine.js';
export type { CheckpointMachineEvent, CheckpointEmitted, CheckpointStateValue, CheckpointRejectReason } from '../machines/checkpoint.machine.js';
export { createCheckpointWriter } from './checkpoint/writer.js';
export type { CheckpointWriter, CheckpointWriterOptions, CheckpointWriterState, CheckpointWriterStats, WriteOutcome, SnapshotWriteOptions } from './checkpoint/writer.js';

export { toMermaid } from './viz/to-mermaid.js';
export { toDot } from './viz/to-dot.js';
export type { ToMermaidOptions, ToDotOptions, DiagramDirection } from './viz/options.js';

// Redis (issue 16): a checkpoint store, a partitioned-stream producer, a sink, partition leases.
export { redisStore } from './checkpoint/redis-store.js';
export type { RedisStoreOptions } from './checkpoint/redis-store.js';
export { redisStreamProducer } from './redis/redis-stream-producer.js';
export type { RedisStreamProducer, RedisStreamProducerOptions, SentEntry } from './redis/redis-stream-producer.js';
export { toRedisStream } from './sinks/to-redis-stream.js';
export type { RedisStreamSinkOptions } from './sinks/to-redis-stream.js';
export { PartitionLeases } from './redis/partition-leases.js';
export type { PartitionLeasesOptions } from './redis/partition-leases-options.js';
export type { LeaseEvent, LeaseListener } from './redis/lease-events.js';
export { partitionOf } from './core/partition-of.js';
export { assignPartitions, partitionsOf } from './core/assign-partitions.js';
export type { AssignmentInput } from './core/assign-partitions.js';
export { RedisError } from './core/errors.js';
export type { RedisErrorCode } from './core/errors.js';
