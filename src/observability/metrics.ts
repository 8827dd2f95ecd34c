import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ConfigError } from '../core/errors.js';
import { knownKeys, record } from '../core/validate.js';
import type { PipelineStats } from '../pipeline/stats.js';
import { countObservation, emptyTally, type Observe, type PipelineTally } from './pipeline-tally.js';
import { BREAKER_STATE_VALUE, type ObservedPipeline } from './tracked-pipeline.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The prom-client registry to register in (default: a new one; never the global default registry). */
  registry?: Registry;
}

/** The Prometheus metrics of the pipelines it tracks, in one prom-client `Registry`. */
export interface Metrics {
  readonly registry: Registry;
  /** Content-Type of `expose()`'s text. */
  readonly contentType: string;
  /** Starts exporting a pipeline; a tracked pipeline of the same name (an earlier run) is replaced. */
  track(pipeline: ObservedPipeline): void;
  /** Stops exporting a pipeline: its series are deleted. */
  untrack(pipeline: ObservedPipeline): void;
  /** The pipelines tracked now. */
  pipelines(): ObservedPipeline[];
  /** The text exposition of the registry (Prometheus format 0.0.4). */
  expose(): Promise<string>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const CHECKPOINT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One set per registry: creating metrics twice on the same registry returns the same set instead of failing with "already registered". */
const byRegistry = new WeakMap<Registry, Metrics>();

/**
 * Creates the steadfast metrics (names in docs/observability.md) in their own prom-client registry.
 * Counters, gauges and the mailbox depth are read from `pipeline.stats()` when scraped; latency and
 * checkpoint histograms and rare events (transitions, escalations, flapping) come from `pipeline.observe()`.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.track(pipeline);
 * const text = await metrics.expose();
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const opts = record('createMetrics options', options);
  knownKeys('createMetrics', opts, ['registry']);
  if (opts.registry !== undefined && !(opts.registry instanceof Registry)) {
    throw new ConfigError('createMetrics.registry', opts.registry, "must be a prom-client Registry (from the same copy of prom-client)");
  }
  const registry = opts.registry ?? new Registry();
  let metrics = byRegistry.get(registry);
  if (metrics === undefined) {
    metrics = new PipelineMetrics(registry);
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

interface Tracked {
  pipeline: ObservedPipeline;
  off: () => void;
  tally: PipelineTally;
  latency: Map<string, Observe>;
  checkpoint: Map<string, Observe>;
}

type StageCounter = (stage: PipelineStats['stages'][string]) => number;

class PipelineMetrics implements Metrics {
  private readonly tracked = new Map<string, Tracked>();
  private readonly latency: Histogram<'pipeline' | 'stage'>;
  private readonly checkpointSeconds: Histogram<'pipeline' | 'stage'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    const each = () => this.tracked.values();
    const stageCounter = (name: string, help: string, read: StageCounter) => {
      const counter: Counter<'pipeline' | 'stage'> = new Counter({
        name,
        help,
        labelNames: ['pipeline', 'stage'],
        registers,
        collect: () => {
          counter.reset();
          for (const { pipeline } of each()) for (const stage of Object.values(pipeline.stats().stages)) counter.inc({ pipeline: pipeline.name, stage: stage.name }, read(stage));
        },
      });
    };

    const events: Counter<'pipeline' | 'stage' | 'outcome'> = new Counter({
      name: 'steadfast_stage_events_total',
      help: 'Events a stage instance handled, by outcome (ok, failed).',
      labelNames: ['pipeline', 'stage', 'outcome'],
      registers,
      collect: () => {
        events.reset();
        for (const { pipeline } of each()) {
          for (const stage of Object.values(pipeline.stats().stages)) {
            events.inc({ pipeline: pipeline.name, stage: stage.name, outcome: 'ok' }, Math.max(0, stage.eventsIn - stage.failedEvents));
            events.inc({ pipeline: pipeline.name, stage: stage.name, outcome: 'failed' }, stage.failedEvents);
          }
        }
      },
    });
    this.latency = new Histogram({
      name: 'steadfast_stage_latency_seconds',
      help: 'Duration of one stage call (a batch of events).',
      labelNames: ['pipeline', 'stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const mailbox: Gauge<'pipeline' | 'stage'> = new Gauge({
      name: 'steadfast_mailbox_depth',
      help: 'Events queued in a stage instance or in its call right now.',
      labelNames: ['pipeline', 'stage'],
      registers,
      collect: () => {
        mailbox.reset();
        for (const { pipeline } of each()) for (const stage of Object.values(pipeline.stats().stages)) mailbox.set({ pipeline: pipeline.name, stage: stage.name }, stage.mailbox.depth);
      },
    });
    const perSecond: Gauge<'pipeline' | 'stage'> = new Gauge({
      name: 'steadfast_stage_events_per_second',
      help: 'Events a stage instance (or sink) processed per second over the last 10 s (stats().stages[name].recentPerSecond).',
      labelNames: ['pipeline', 'stage'],
      registers,
      collect: () => {
        perSecond.reset();
        for (const { pipeline } of each()) for (const stage of Object.values(pipeline.stats().stages)) perSecond.set({ pipeline: pipeline.name, stage: stage.name }, stage.recentPerSecond);
      },
    });
    const breakerState: Gauge<'pipeline' | 'breaker'> = new Gauge({
      name: 'steadfast_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 halfOpen, 2 open (isolated counts as open).',
      labelNames: ['pipeline', 'breaker'],
      registers,
      collect: () => {
        breakerState.reset();
        for (const { pipeline } of each()) for (const breaker of pipeline.breakers.list()) breakerState.set({ pipeline: pipeline.name, breaker: breaker.name }, BREAKER_STATE_VALUE[breaker.state]);
      },
    });
    const transitions: Counter<'pipeline' | 'breaker' | 'to'> = new Counter({
      name: 'steadfast_breaker_transitions_total',
      help: 'Circuit breaker transitions, by the state entered (closed, halfOpen, open, isolated).',
      labelNames: ['pipeline', 'breaker', 'to'],
      registers,
      collect: () => {
        transitions.reset();
        for (const { pipeline, tally } of each()) {
          for (const [breaker, byState] of tally.transitions) for (const [to, n] of byState) transitions.inc({ pipeline: pipeline.name, breaker, to }, n);
        }
      },
    });
    stageCounter('steadfast_restarts_total', 'Restarts of a stage instance by its supervisor.', (s) => s.restarts);
    const escalations: Counter<'pipeline'> = new Counter({
      name: 'steadfast_escalations_total',
      help: "Times the pipeline's supervisor gave up (restart intensity, flapping or a failed start).",
      labelNames: ['pipeline'],
      registers,
      collect: () => {
        escalations.reset();
        for (const { pipeline, tally } of each()) escalations.inc({ pipeline: pipeline.name }, tally.escalations);
      },
    });
    const flapping: Counter<'pipeline' | 'pattern'> = new Counter({
      name: 'steadfast_flapping_total',
      help: 'Flapping patterns the supervisor detected (ABAB, CYCLE, RUNAWAY).',
      labelNames: ['pipeline', 'pattern'],
      registers,
      collect: () => {
        flapping.reset();
        for (const { pipeline, tally } of each()) for (const [pattern, n] of tally.flapping) flapping.inc({ pipeline: pipeline.name, pattern }, n);
      },
    });
    stageCounter('steadfast_dead_letters_total', 'Events a stage sent to its dead letters (degraded mode deadLetter).', (s) => s.resilience?.deadLetters ?? 0);
    this.checkpointSeconds = new Histogram({
      name: 'steadfast_checkpoint_duration_seconds',
      help: 'Time to write one stage snapshot.',
      labelNames: ['pipeline', 'stage'],
      buckets: CHECKPOINT_BUCKETS,
      registers,
    });
    const bytes: Gauge<'pipeline' | 'stage'> = new Gauge({
      name: 'steadfast_checkpoint_bytes',
      help: 'Encoded size of the last snapshot written for a stage.',
      labelNames: ['pipeline', 'stage'],
      registers,
      collect: () => {
        bytes.reset();
        for (const { pipeline, tally } of each()) for (const [stage, n] of tally.checkpointBytes) bytes.set({ pipeline: pipeline.name, stage }, n);
      },
    });
    const corrupt: Counter<'pipeline' | 'stage'> = new Counter({
      name: 'steadfast_checkpoint_corrupt_total',
      help: 'Stored snapshots skipped on restore because their checksum or decoding failed.',
      labelNames: ['pipeline', 'stage'],
      registers,
      collect: () => {
        corrupt.reset();
        for (const { pipeline, tally } of each()) for (const [stage, n] of tally.corrupt) corrupt.inc({ pipeline: pipeline.name, stage }, n);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  track(pipeline: ObservedPipeline): void {
    const current = this.tracked.get(pipeline.name);
    if (current?.pipeline === pipeline) return;
    if (current !== undefined) this.untrack(current.pipeline);
    const tracked: Tracked = { pipeline, off: () => {}, tally: emptyTally(), latency: new Map(), checkpoint: new Map() };
    const histograms = {
      latency: (stage: string) => childOf(tracked.latency, this.latency, pipeline.name, stage),
      checkpoint: (stage: string) => childOf(tracked.checkpoint, this.checkpointSeconds, pipeline.name, stage),
    };
    tracked.off = pipeline.observe((event) => countObservation(tracked.tally, histograms, event));
    this.tracked.set(pipeline.name, tracked);
  }

  untrack(pipeline: ObservedPipeline): void {
    const tracked = this.tracked.get(pipeline.name);
    if (tracked?.pipeline !== pipeline) return;
    tracked.off();
    this.tracked.delete(pipeline.name);
    for (const stage of tracked.latency.keys()) this.latency.remove({ pipeline: pipeline.name, stage });
    for (const stage of tracked.checkpoint.keys()) this.checkpointSeconds.remove({ pipeline: pipeline.name, stage });
  }

  pipelines(): ObservedPipeline[] {
    return [...this.tracked.values()].map((t) => t.pipeline);
  }

  expose(): Promise<string> {
    for (const tracked of this.tracked.values()) this.dropRemoved(tracked);
    return this.registry.metrics();
  }

  /** Histogram series of stage instances a pipeline no longer has (replicas removed by `scale()`) are deleted. */
  private dropRemoved(tracked: Tracked): void {
    const name = tracked.pipeline.name;
    const alive = tracked.pipeline.stats().stages;
    for (const [cache, histogram] of [[tracked.latency, this.latency], [tracked.checkpoint, this.checkpointSeconds]] as const) {
      for (const stage of [...cache.keys()]) {
        if (Object.hasOwn(alive, stage)) continue;
        histogram.remove({ pipeline: name, stage });
        cache.delete(stage);
      }
    }
  }
}

/** The histogram child for a stage, made once and cached. */
function childOf(cache: Map<string, Observe>, histogram: Histogram<'pipeline' | 'stage'>, pipeline: string, stage: string): Observe {
  let child = cache.get(stage);
  if (child === undefined) {
    child = histogram.labels({ pipeline, stage });
    cache.set(stage, child);
  }
  return child;
}
