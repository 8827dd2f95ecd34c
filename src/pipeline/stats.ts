import type { StageStateValue } from '../../machines/stage.machine.js';
import type { BreakerState } from '../../machines/circuit-breaker.machine.js';
import type { NodeCell } from './node-cell.js';
import type { PumpStatus } from './source-pump.js';
import type { SupervisorStats } from '../supervision/supervisor.js';
import type { CheckpointStats, StageCheckpointInfo } from '../checkpointing/coordinator.js';
import type { DeadLetterCounts } from '../checkpoint/dead-letters.js';
import type { RecentRates } from './recent-rates.js';

/** Lifecycle of a pipeline run. */
export type PipelineStatus = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Counters of one node instance (a stage, a replica of one, or a sink). */
export interface StageStats {
  /** Node name; replicas are `<group>#<i>`. */
  name: string;
  /** Graph node the instance belongs to. */
  group: string;
  replica: number | undefined;
  kind: 'stage' | 'sink';
  /** The stage machine's state. */
  status: StageStateValue;
  /** Events taken in and handled (successfully or not). */
  eventsIn: number;
  /** Outputs emitted. */
  eventsOut: number;
  /** Events whose call failed (reported to `onError`). */
  failedEvents: number;
  /** Calls the stage machine made (one per batch taken), and those that failed. */
  calls: number;
  failedCalls: number;
  /** Mean events per call. */
  meanBatch: number;
  /** For a variant stage: events it failed on that went back to the main stage. */
  fallbacks: number;
  /** Times the stage was restarted by its supervisor. */
  restarts: number;
  /** With `retry` / `breaker`: retries made, events handled by the degraded mode, dead letters, and the breaker's state. */
  resilience?: { retries: number; degraded: number; deadLetters: number; breaker: BreakerState | undefined };
  /** Outputs that no downstream route accepted (graph `when` filters). */
  unrouted: number;
  /**
   * Events queued or in a call, against the mailbox's capacity; `replaying`: events a restarted
   * instance replays from its last snapshot, held apart (they are not counted in `depth`).
   */
  mailbox: { depth: number; capacity: number; peak: number; replaying: number };
  /**
   * How long events have waited here (in the mailbox or the current call) with no call ending: since
   * the oldest of them arrived, or since the last call ended if it left some waiting, whichever is
   * later (ms, the pipeline's monotonic clock); null while none waits. The health monitor's "stuck".
   */
  waitingMs: number | null;
  /** Exponential average of time per event, and total time in calls. */
  latency: { perEventMs: number | null; busyMs: number };
  /** Events processed (`eventsIn`) per second since the run started (for a sink: delivered). */
  processedPerSecond: number;
  /** Events processed per second over the last `recent.windowMs` (see {@link PipelineStats.recent}). */
  recentPerSecond: number;
  /** With checkpoints: the last snapshot this instance wrote in this run (null before its first). */
  checkpoint?: StageCheckpointInfo | null;
}

/** A snapshot of a pipeline's counters; see `pipeline.stats()`. */
export interface PipelineStats {
  pipeline: string;
  runId: string;
  status: PipelineStatus;
  mode: string;
  /** Epoch milliseconds, or null before start. */
  startedAt: number | null;
  uptimeMs: number;
  source: { name: string; status: PumpStatus; events: number; lastOffset: number | null; errors: number };
  /** Per node instance, in topological order. */
  stages: Record<string, StageStats>;
  /** Events buffered in mailboxes and calls right now, and the most at any time. */
  buffered: { now: number; peak: number; capacity: number };
  /** Errors reported to `onError`. */
  errors: number;
  /**
   * What became of the dead letters of this run: stored (of which `altered`: stored with
   * placeholders for what the codec cannot encode), refused by the store (`notStored`, reported as
   * DEAD_LETTER_NOT_STORED), still being written.
   */
  deadLetters: DeadLetterCounts;
  /** Source events per second since start: the read rate (events taken from the source, not yet processed). */
  eventsPerSecond: number;
  /** Events delivered to the sink(s) per second since start: work done end to end. */
  sinkPerSecond: number;
  /**
   * The same two rates over the last `windowMs` (10 s): sampled each time the stats are read, so
   * when reads are further apart than the window they cover the time since the previous read.
   */
  recent: { windowMs: number; sourcePerSecond: number; sinkPerSecond: number };
  /** The pipeline's supervisor: restarts, intensity, the tree's restart budget. */
  supervision: SupervisorStats;
  /** With the `checkpoint` option: completed, failed and corrupt counts, the last one, what the run restored. */
  checkpoint?: CheckpointStats;
}

/** The counters of one node instance, read now; its rates (0 here) are set by {@link pipelineStats}. */
export function stageStats(cell: NodeCell): StageStats {
  const { calls, failedCalls } = cell.calls();
  const c = cell.ledger.counters;
  const mailbox = cell.mailbox;
  const perEventMs = cell.ledger.perEventMs;
  return {
    name: cell.name,
    group: cell.group,
    replica: cell.replica,
    kind: cell.kind,
    status: cell.status(),
    eventsIn: c.eventsIn,
    eventsOut: c.eventsOut,
    failedEvents: c.failedEvents,
    calls,
    failedCalls,
    meanBatch: calls === 0 ? 0 : c.eventsIn / calls,
    fallbacks: c.fallbacks,
    ...resilienceOf(cell),
    restarts: cell.restarts,
    unrouted: cell.outlet.unrouted,
    mailbox: { depth: mailbox.depth() - mailbox.replaying, capacity: cell.capacity, peak: mailbox.peakDepth, replaying: mailbox.replaying },
    waitingMs: mailbox.waitingMs(),
    latency: { perEventMs: Number.isNaN(perEventMs) ? null : perEventMs, busyMs: c.busyMs },
    processedPerSecond: 0,
    recentPerSecond: 0,
  };
}

function resilienceOf(cell: NodeCell): Pick<StageStats, 'resilience'> {
  const guards = cell.guards();
  if (guards === undefined) return {};
  return { resilience: { ...guards.counters, breaker: guards.breaker?.state } };
}

/** What a pipeline's stats are read from. */
export interface StatsSources {
  pipeline: string;
  runId: string;
  status: PipelineStatus;
  mode: PipelineStats['mode'];
  startedAt: number | null;
  /** Epoch ms the run ended, or now while it runs. */
  end: number;
  source: { name: string; pump: { status: PumpStatus; events: number; lastOffset: number | undefined; errors: number } };
  cells: readonly NodeCell[];
  flow: { buffered: number; peak: number };
  errors: number;
  deadLetters: DeadLetterCounts;
  supervision: SupervisorStats;
  checkpoints: { stats(): CheckpointStats; stageCheckpoint(stage: string): StageCheckpointInfo | null } | undefined;
  /** The run's sliding windows, sampled at `end` by this read. */
  rates: RecentRates;
}

/** A pipeline's counters, read now. */
export function pipelineStats(s: StatsSources): PipelineStats {
  const uptimeMs = s.startedAt === null ? 0 : Math.max(0, s.end - s.startedAt);
  const perSecond = (n: number) => (uptimeMs > 0 ? (n * 1000) / uptimeMs : 0);
  const stages: Record<string, StageStats> = {};
  let capacity = 0;
  for (const cell of s.cells) {
    capacity += cell.capacity;
    const stats = stageStats(cell);
    if (s.checkpoints !== undefined && cell.kind === 'stage') stats.checkpoint = s.checkpoints.stageCheckpoint(cell.name);
    stats.processedPerSecond = perSecond(stats.eventsIn);
    stages[cell.name] = stats;
  }
  const pump = s.source.pump;
  const all = Object.values(stages);
  const recent =
    s.startedAt === null
      ? undefined
      : s.rates.sample(
          s.startedAt,
          s.end,
          pump.events,
          all.map((stage) => [stage.name, stage.eventsIn] as const),
        );
  let sinkEvents = 0;
  let sinkRecent = 0;
  for (const stage of all) {
    stage.recentPerSecond = recent?.nodes.get(stage.name) ?? 0;
    if (stage.kind !== 'sink') continue;
    sinkEvents += stage.eventsIn;
    sinkRecent += stage.recentPerSecond;
  }
  return {
    pipeline: s.pipeline,
    runId: s.runId,
    status: s.status,
    mode: s.mode,
    startedAt: s.startedAt,
    uptimeMs,
    source: { name: s.source.name, status: pump.status, events: pump.events, lastOffset: pump.lastOffset ?? null, errors: pump.errors },
    stages,
    buffered: { now: s.flow.buffered, peak: s.flow.peak, capacity },
    errors: s.errors,
    deadLetters: s.deadLetters,
    eventsPerSecond: perSecond(pump.events),
    sinkPerSecond: perSecond(sinkEvents),
    recent: { windowMs: s.rates.windowMs, sourcePerSecond: recent?.source ?? 0, sinkPerSecond: sinkRecent },
    supervision: s.supervision,
    ...(s.checkpoints === undefined ? {} : { checkpoint: s.checkpoints.stats() }),
  };
}
