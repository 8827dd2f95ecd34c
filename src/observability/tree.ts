import type { BreakerState } from '../../machines/circuit-breaker.machine.js';
import type { StageStateValue } from '../../machines/stage.machine.js';
import type { SupervisorStateValue } from '../../supervisors/supervisor.machine.js';
import type { PipelineStats, PipelineStatus } from '../pipeline/stats.js';

/** The last snapshot a stage wrote (from `checkpoint.written` events). */
export interface LastCheckpoint {
  version: number;
  bytes: number;
  ms: number;
  /** Epoch ms when it was reported. */
  at: number;
}

/** A stage instance (or sink) under its supervisor. */
export interface WorkerNode {
  id: string;
  type: 'worker';
  kind: 'stage' | 'sink';
  group: string;
  state: StageStateValue;
  restarts: number;
  mailbox: { depth: number; capacity: number; peak: number; replaying: number };
  breaker: BreakerState | null;
  events: { in: number; out: number; failed: number };
  /** Events processed per second: over the run, and over the last 10 s (`stats().stages[id]`). */
  rate: { processedPerSecond: number; recentPerSecond: number };
  /** Null until the stage reports a checkpoint. */
  checkpoint: LastCheckpoint | null;
}

/** A pipeline's supervisor and its children. */
export interface SupervisorNode {
  id: string;
  type: 'supervisor';
  state: SupervisorStateValue;
  strategy: string;
  restarts: number;
  intensity: { restarts: number; maxRestarts: number; withinMs: number };
  children: WorkerNode[];
}

/** A pipeline, the root of its supervision tree. */
export interface PipelineNode {
  id: string;
  type: 'pipeline';
  status: PipelineStatus;
  runId: string;
  source: { name: string; events: number; lastOffset: number | null };
  /** Source events read per second over the run (the read rate, not work done). */
  eventsPerSecond: number;
  /** Events delivered to the sink(s) per second over the run. */
  sinkPerSecond: number;
  /** The read and sink rates over the last `windowMs`. */
  recent: { windowMs: number; sourcePerSecond: number; sinkPerSecond: number };
  /** Every breaker registered with the pipeline. */
  breakers: Array<{ name: string; state: BreakerState }>;
  supervisor: SupervisorNode;
}

/** The supervision tree of a pipeline from its stats: pipeline → supervisor → stage instances. */
export function treeOf(
  stats: PipelineStats,
  breakers: ReadonlyArray<{ name: string; state: BreakerState }>,
  checkpoints: ReadonlyMap<string, LastCheckpoint> = new Map(),
): PipelineNode {
  const sup = stats.supervision;
  return {
    id: stats.pipeline,
    type: 'pipeline',
    status: stats.status,
    runId: stats.runId,
    source: { name: stats.source.name, events: stats.source.events, lastOffset: stats.source.lastOffset },
    eventsPerSecond: stats.eventsPerSecond,
    sinkPerSecond: stats.sinkPerSecond,
    recent: stats.recent,
    breakers: breakers.map((b) => ({ name: b.name, state: b.state })),
    supervisor: {
      id: sup.name,
      type: 'supervisor',
      state: sup.state,
      strategy: sup.strategy,
      restarts: sup.restarts,
      intensity: sup.intensity,
      children: Object.values(stats.stages).map((s) => ({
        id: s.name,
        type: 'worker',
        kind: s.kind,
        group: s.group,
        state: s.status,
        restarts: s.restarts,
        mailbox: s.mailbox,
        breaker: s.resilience?.breaker ?? null,
        events: { in: s.eventsIn, out: s.eventsOut, failed: s.failedEvents },
        rate: { processedPerSecond: s.processedPerSecond, recentPerSecond: s.recentPerSecond },
        checkpoint: checkpoints.get(s.name) ?? null,
      })),
    },
  };
}
