import { setRepeating, type CancelTimer } from '../core/clock.js';
import type { BreakerState } from '../../machines/circuit-breaker.machine.js';
import type { StageStateValue } from '../../machines/stage.machine.js';
import type { PipelineStatus, StageStats } from '../pipeline/stats.js';
import { resolveHealthOptions, type HealthOptions, type ResolvedHealthOptions } from './health-options.js';
import { availability, stageHealth, systemState, type StageHealthStatus, type SystemState } from './health-rules.js';
import { LatencyWindow, type Percentiles } from './latency-window.js';
import type { ObservedPipeline } from './tracked-pipeline.js';

/** The health of one stage instance at a check. */
export interface StageHealth {
  stage: string;
  group: string;
  kind: 'stage' | 'sink';
  status: StageHealthStatus;
  /** Why it is not healthy (empty when healthy). */
  reasons: string[];
  weight: number;
  state: StageStateValue;
  breaker: BreakerState | null;
  /** Events handled and failed since the pipeline started. */
  counts: { ok: number; failed: number };
  /** Within the window: events handled and failed, the failed share, restarts. */
  window: { ok: number; failed: number; failureRate: number; restarts: number };
  /** Call time percentiles within the window (ms), or null without calls. */
  latencyMs: Percentiles | null;
  stale: boolean;
  /** Time since the last finished call (or since the monitor first saw the stage). */
  idleMs: number;
  /** How long the waiting events have waited with no call ending (from the stage's stats); null when none waits. */
  waitingMs: number | null;
}

/** The health of one pipeline: its stages and their weighted availability. */
export interface PipelineHealth {
  pipeline: string;
  status: PipelineStatus;
  availability: number;
  state: SystemState;
  stages: StageHealth[];
}

/** A health check of every watched pipeline. */
export interface HealthReport {
  state: SystemState;
  /** `Σ wᵢ·hᵢ / Σ wᵢ` over every stage of every pipeline. */
  availability: number;
  /** Epoch ms of the check. */
  checkedAt: number;
  windowMs: number;
  pipelines: PipelineHealth[];
}

/** Watches pipelines and scores their health; see {@link createHealthMonitor}. */
export interface HealthMonitor {
  track(pipeline: ObservedPipeline): void;
  untrack(pipeline: ObservedPipeline): void;
  pipelines(): ObservedPipeline[];
  /** Checks now: a new report (also kept as `last`); listeners hear a change of the system state. */
  check(): HealthReport;
  readonly last: HealthReport | undefined;
  /** Hears each change of the system state (`previous` is undefined at the first check); returns the unsubscribe function. */
  onChange(listener: (report: HealthReport, previous: SystemState | undefined) => void): () => void;
  /** Stops the background checks and the pipelines' listeners. Idempotent. */
  stop(): void;
}

/**
 * Creates a health monitor: per stage success and failure counts, rolling call-time p50/p95/p99
 * and staleness; per system the weighted availability and a state `running | degraded | critical`
 * (rules in docs/observability.md). It checks every `intervalMs` on a timer that never keeps the
 * process alive, until `stop()`.
 *
 * @example
 * const health = createHealthMonitor({ pipelines: [pipeline], weights: { enrich: 3 } });
 * health.onChange((report) => log.warn({ state: report.state }, 'health changed'));
 * health.check().state; // 'running'
 * health.stop();
 */
export function createHealthMonitor(options: HealthOptions = {}): HealthMonitor {
  return new Monitor(resolveHealthOptions(options));
}

interface Mark {
  at: number;
  ok: number;
  failed: number;
  restarts: number;
}

interface StageTrack {
  latency: LatencyWindow;
  lastCallAt: number;
  /** Counter readings at past checks: the oldest is the window's baseline. */
  marks: Mark[];
}

interface Watched {
  pipeline: ObservedPipeline;
  off: () => void;
  stages: Map<string, StageTrack>;
}

type ChangeListener = (report: HealthReport, previous: SystemState | undefined) => void;

class Monitor implements HealthMonitor {
  private readonly watched = new Map<ObservedPipeline, Watched>();
  private readonly listeners = new Set<ChangeListener>();
  private cancelTimer: CancelTimer | undefined;
  last: HealthReport | undefined;

  constructor(private readonly options: ResolvedHealthOptions) {
    for (const pipeline of options.pipelines) this.track(pipeline);
    this.cancelTimer = setRepeating(options.clock, options.intervalMs, () => this.check(), { unref: true });
  }

  track(pipeline: ObservedPipeline): void {
    if (this.watched.has(pipeline)) return;
    const watched: Watched = { pipeline, off: () => {}, stages: new Map() };
    watched.off = pipeline.observe((event) => {
      if (event.type !== 'steadfast.stage.call') return;
      const now = this.options.clock.now();
      const track = this.stageTrack(watched, event.stage, now);
      track.latency.add(now, event.ms);
      track.lastCallAt = now;
    });
    this.watched.set(pipeline, watched);
    // The baseline of the first window.
    const now = this.options.clock.now();
    for (const stage of Object.values(pipeline.stats().stages)) this.mark(this.stageTrack(watched, stage.name, now), stage, now);
  }

  untrack(pipeline: ObservedPipeline): void {
    this.watched.get(pipeline)?.off();
    this.watched.delete(pipeline);
  }

  pipelines(): ObservedPipeline[] {
    return [...this.watched.keys()];
  }

  check(): HealthReport {
    const now = this.options.clock.now();
    const pipelines = [...this.watched.values()].map((watched) => this.checkPipeline(watched, now));
    const value = availability(pipelines.flatMap((p) => p.stages));
    const report: HealthReport = { state: systemState(value, this.options.thresholds), availability: value, checkedAt: now, windowMs: this.options.windowMs, pipelines };
    const previous = this.last?.state;
    this.last = report;
    if (previous !== report.state) {
      for (const listener of this.listeners) {
        try {
          listener(report, previous);
        } catch {
          // a listener's bug must not stop the checks
        }
      }
    }
    return report;
  }

  onChange(listener: ChangeListener): () => void {
    const entry: ChangeListener = (report, previous) => listener(report, previous);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const pipeline of [...this.watched.keys()]) this.untrack(pipeline);
    this.listeners.clear();
  }

  private checkPipeline(watched: Watched, now: number): PipelineHealth {
    const stats = watched.pipeline.stats();
    const since = now - this.options.windowMs;
    const stages: StageHealth[] = [];
    for (const stage of Object.values(stats.stages)) {
      const track = this.stageTrack(watched, stage.name, now);
      const base = this.mark(track, stage, now, since);
      const ok = stage.eventsIn - stage.failedEvents;
      const window = { ok: ok - base.ok, failed: stage.failedEvents - base.failed, restarts: stage.restarts - base.restarts };
      const latencyMs = track.latency.percentiles(since);
      const breaker = stage.resilience?.breaker ?? null;
      const idleMs = Math.max(0, now - track.lastCallAt);
      const waitingMs = stage.waitingMs ?? null;
      const input = { state: stage.status, breaker: breaker ?? undefined, depth: stage.mailbox.depth, ...window, p99: latencyMs?.p99 ?? null, idleMs, waitingMs };
      const verdict = stageHealth(input, this.options.rules);
      stages.push({
        stage: stage.name,
        group: stage.group,
        kind: stage.kind,
        status: verdict.status,
        reasons: verdict.reasons,
        weight: this.options.weight(stats.pipeline, stage),
        state: stage.status,
        breaker,
        counts: { ok, failed: stage.failedEvents },
        window: { ...window, failureRate: verdict.failureRate },
        latencyMs,
        stale: verdict.stale,
        idleMs,
        waitingMs,
      });
    }
    // Instances gone (a replica scaled away) are forgotten.
    for (const name of watched.stages.keys()) if (!(name in stats.stages)) watched.stages.delete(name);
    const value = availability(stages);
    return { pipeline: stats.pipeline, status: stats.status, availability: value, state: systemState(value, this.options.thresholds), stages };
  }

  private stageTrack(watched: Watched, stage: string, now: number): StageTrack {
    let track = watched.stages.get(stage);
    if (track === undefined) {
      track = { latency: new LatencyWindow(), lastCallAt: now, marks: [] };
      watched.stages.set(stage, track);
    }
    return track;
  }

  /**
   * Records the stage's counters at `now` and returns the window's baseline: the newest reading at
   * or before the window's start, or the oldest one kept. Readings closer together than half the
   * interval replace each other, so frequent checks (a busy /health) keep the list short.
   */
  private mark(track: StageTrack, stage: StageStats, now: number, since = now): Mark {
    const reading: Mark = { at: now, ok: stage.eventsIn - stage.failedEvents, failed: stage.failedEvents, restarts: stage.restarts };
    const marks = track.marks;
    const previous = marks[marks.length - 2];
    if (previous !== undefined && now - previous.at < this.options.intervalMs / 2) marks[marks.length - 1] = reading;
    else marks.push(reading);
    while (marks.length > 1 && (marks[1] as Mark).at <= since) marks.shift();
    return marks[0] as Mark;
  }
}
