import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, positiveNumber, record } from '../core/validate.js';
import type { StageStats } from '../pipeline/stats.js';
import type { HealthRules } from './health-rules.js';
import type { ObservedPipeline } from './tracked-pipeline.js';

/** The weight `wᵢ` of a stage instance in the availability: by graph node (or instance) name, or a function. */
export type StageWeights = Readonly<Record<string, number>> | ((pipeline: string, stage: StageStats) => number);

/** Options of {@link createHealthMonitor}. */
export interface HealthOptions {
  /** Pipelines to watch from the start (more with `track()`). */
  pipelines?: readonly ObservedPipeline[];
  /** Time window of the failure rate, restarts and latency percentiles (default 60 000 ms). */
  windowMs?: number;
  /** A stage with no call finished for this long is stale (default 30 000 ms); stuck if events wait. */
  staleAfterMs?: number;
  /** Period of the background check (default 5000 ms); the timer never keeps the process alive. */
  intervalMs?: number;
  /** Availability below `degraded` (default 0.9) makes the system degraded; below `critical` (default 0.5), critical. */
  thresholds?: { degraded?: number; critical?: number };
  /** Failed share of a stage's events in the window that makes it degraded (default 0.05) or unhealthy (default 0.5). */
  failureRate?: { degraded?: number; unhealthy?: number };
  /** Fewest events in the window for the failure rate to count (default 5). */
  minEvents?: number;
  /** A stage whose p99 call time passes this is degraded (default: not judged). */
  slowCallMs?: number;
  /** Stage weights (default 1 each; 0 leaves a stage out of the availability). */
  weights?: StageWeights;
  clock?: Clock;
}

/** Options with defaults filled in. */
export interface ResolvedHealthOptions {
  pipelines: readonly ObservedPipeline[];
  windowMs: number;
  intervalMs: number;
  thresholds: { degraded: number; critical: number };
  rules: HealthRules;
  weight: (pipeline: string, stage: StageStats) => number;
  clock: Clock;
}

const KNOWN = ['pipelines', 'windowMs', 'staleAfterMs', 'intervalMs', 'thresholds', 'failureRate', 'minEvents', 'slowCallMs', 'weights', 'clock'] as const;

/** Checks the options of a health monitor; a mistake is a CONFIG_INVALID naming the field and the value. */
export function resolveHealthOptions(options: unknown): ResolvedHealthOptions {
  const opts = record('createHealthMonitor options', options);
  knownKeys('createHealthMonitor', opts, KNOWN);
  const pipelines = opts.pipelines === undefined ? [] : pipelineList(opts.pipelines);
  const windowMs = opts.windowMs === undefined ? 60_000 : integerIn('createHealthMonitor.windowMs', opts.windowMs, 1);
  const staleAfterMs = opts.staleAfterMs === undefined ? 30_000 : integerIn('createHealthMonitor.staleAfterMs', opts.staleAfterMs, 1);
  const intervalMs = opts.intervalMs === undefined ? 5_000 : integerIn('createHealthMonitor.intervalMs', opts.intervalMs, 10);
  const t = opts.thresholds === undefined ? {} : record('createHealthMonitor.thresholds', opts.thresholds);
  knownKeys('createHealthMonitor.thresholds', t, ['degraded', 'critical']);
  const degraded = t.degraded === undefined ? 0.9 : share('createHealthMonitor.thresholds.degraded', t.degraded);
  const critical = t.critical === undefined ? 0.5 : share('createHealthMonitor.thresholds.critical', t.critical);
  if (critical > degraded) throw new ConfigError('createHealthMonitor.thresholds.critical', critical, `must be <= thresholds.degraded (${degraded})`);
  const f = opts.failureRate === undefined ? {} : record('createHealthMonitor.failureRate', opts.failureRate);
  knownKeys('createHealthMonitor.failureRate', f, ['degraded', 'unhealthy']);
  const failDegraded = f.degraded === undefined ? 0.05 : share('createHealthMonitor.failureRate.degraded', f.degraded);
  const failUnhealthy = f.unhealthy === undefined ? 0.5 : share('createHealthMonitor.failureRate.unhealthy', f.unhealthy);
  if (failDegraded > failUnhealthy) throw new ConfigError('createHealthMonitor.failureRate.degraded', failDegraded, `must be <= failureRate.unhealthy (${failUnhealthy})`);
  const minEvents = opts.minEvents === undefined ? 5 : integerIn('createHealthMonitor.minEvents', opts.minEvents, 1);
  const slowCallMs = opts.slowCallMs === undefined ? undefined : positiveNumber('createHealthMonitor.slowCallMs', opts.slowCallMs);
  const clock = opts.clock === undefined ? systemClock : (opts.clock as Clock);
  if (typeof clock.now !== 'function' || typeof clock.monotonic !== 'function') throw new ConfigError('createHealthMonitor.clock', opts.clock, 'must have now() and monotonic()');
  return {
    pipelines,
    windowMs,
    intervalMs,
    thresholds: { degraded, critical },
    rules: { staleAfterMs, failureRate: { degraded: failDegraded, unhealthy: failUnhealthy }, minEvents, slowCallMs },
    weight: weights(opts.weights),
    clock,
  };
}

function share(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new ConfigError(field, value, 'must be a number in [0, 1]');
  return value;
}

function pipelineList(value: unknown): readonly ObservedPipeline[] {
  if (!Array.isArray(value)) throw new ConfigError('createHealthMonitor.pipelines', value, 'must be an array of pipelines');
  value.forEach((p: unknown, i) => {
    if (typeof (p as ObservedPipeline | null)?.stats !== 'function' || typeof (p as ObservedPipeline).observe !== 'function') {
      throw new ConfigError(`createHealthMonitor.pipelines[${i}]`, p, 'must be a pipeline (from createPipeline)');
    }
  });
  return value as ObservedPipeline[];
}

function weights(value: unknown): (pipeline: string, stage: StageStats) => number {
  if (value === undefined) return () => 1;
  if (typeof value === 'function') {
    const given = fn<(pipeline: string, stage: StageStats) => number>('createHealthMonitor.weights', value);
    return (pipeline, stage) => {
      const w = given(pipeline, stage);
      return typeof w === 'number' && Number.isFinite(w) && w >= 0 ? w : 1;
    };
  }
  const table = record('createHealthMonitor.weights', value);
  for (const [key, w] of Object.entries(table)) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new ConfigError(`createHealthMonitor.weights.${key}`, w, 'must be a finite number >= 0');
  }
  const byName = new Map(Object.entries(table as Record<string, number>));
  return (_, stage) => byName.get(stage.name) ?? byName.get(stage.group) ?? 1;
}
