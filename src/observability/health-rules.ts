import type { BreakerState } from '../../machines/circuit-breaker.machine.js';
import type { StageStateValue } from '../../machines/stage.machine.js';

/** Health of one stage instance. */
export type StageHealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** State of the whole system, from its weighted availability. */
export type SystemState = 'running' | 'degraded' | 'critical';

/** What the stage rules look at: the stage now, and its counts within the window. */
export interface StageHealthInput {
  state: StageStateValue;
  breaker: BreakerState | undefined;
  /** Events waiting in the mailbox or in a call. */
  depth: number;
  /** Within the window: events handled, events failed, restarts. */
  ok: number;
  failed: number;
  restarts: number;
  /** Slowest 1 % of calls within the window (ms), or null without calls. */
  p99: number | null;
  /** Time since the stage last finished a call (or since it was first seen). */
  idleMs: number;
  /**
   * How long the waiting events have waited with no call ending (`StageStats.waitingMs`): since the
   * oldest arrived, or since the last call ended. Null or absent when unknown: `idleMs` alone counts.
   */
  waitingMs?: number | null;
}

/** Thresholds of the stage rules; see {@link stageHealth}. */
export interface HealthRules {
  staleAfterMs: number;
  /** Failure share of the window's events at which a stage is degraded, and unhealthy. */
  failureRate: { degraded: number; unhealthy: number };
  /** Fewer events than this in the window: the failure share is not judged (too few to tell). */
  minEvents: number;
  /** When set, a p99 call time above it makes a stage degraded. */
  slowCallMs: number | undefined;
}

/** The verdict on one stage, with the reasons for it (empty when healthy). */
export interface StageVerdict {
  status: StageHealthStatus;
  reasons: string[];
  /** No call finished within `staleAfterMs`; only a problem while events have waited that long too (then the stage is stuck). */
  stale: boolean;
  /** Failed share of the window's events (0 without events). */
  failureRate: number;
}

/**
 * Judges one stage. Unhealthy when: crashed or failed; its breaker is open or isolated; stuck
 * (events have waited longer than `staleAfterMs` and no call finished meanwhile: an event that
 * arrives after an idle spell is not stuck at once); or failing at least
 * `failureRate.unhealthy` of its events. Degraded when: its breaker is half-open; failing at least
 * `failureRate.degraded`; restarted within the window; or its p99 call time is above `slowCallMs`.
 * Healthy otherwise: an idle stage with an empty mailbox is stale but healthy (a quiet source is normal).
 */
export function stageHealth(input: StageHealthInput, rules: HealthRules): StageVerdict {
  const events = input.ok + input.failed;
  const failureRate = events === 0 ? 0 : input.failed / events;
  const judged = events >= rules.minEvents;
  const stale = input.idleMs > rules.staleAfterMs;
  const unhealthy: string[] = [];
  if (input.state === 'crashed' || input.state === 'failed') unhealthy.push(`stage ${input.state}`);
  if (input.breaker === 'open' || input.breaker === 'isolated') unhealthy.push(`breaker ${input.breaker}`);
  // An idle spell before the events arrived is not being stuck: count from the later of the last call's end and their arrival.
  const waited = input.waitingMs === undefined || input.waitingMs === null ? input.idleMs : Math.min(input.idleMs, input.waitingMs);
  if (input.depth > 0 && waited > rules.staleAfterMs) unhealthy.push(`stuck: ${input.depth} events waiting ${Math.round(waited)} ms with no call finished`);
  if (judged && failureRate >= rules.failureRate.unhealthy) unhealthy.push(`failure rate ${round(failureRate)} >= ${rules.failureRate.unhealthy}`);
  if (unhealthy.length > 0) return { status: 'unhealthy', reasons: unhealthy, stale, failureRate };

  const degraded: string[] = [];
  if (input.breaker === 'halfOpen') degraded.push('breaker halfOpen');
  if (judged && failureRate >= rules.failureRate.degraded) degraded.push(`failure rate ${round(failureRate)} >= ${rules.failureRate.degraded}`);
  if (input.restarts > 0) degraded.push(`${input.restarts} restarts in the window`);
  if (rules.slowCallMs !== undefined && input.p99 !== null && input.p99 > rules.slowCallMs) degraded.push(`p99 ${round(input.p99)} ms > ${rules.slowCallMs} ms`);
  return { status: degraded.length > 0 ? 'degraded' : 'healthy', reasons: degraded, stale, failureRate };
}

/** The score `hᵢ` of a stage status in the availability: 1 healthy, 0.5 degraded, 0 unhealthy. */
export const HEALTH_SCORE: Readonly<Record<StageHealthStatus, number>> = { healthy: 1, degraded: 0.5, unhealthy: 0 };

/** Weighted availability `Σ wᵢ·hᵢ / Σ wᵢ`; 1 when nothing weighs (no stages, or all weights 0). */
export function availability(parts: ReadonlyArray<{ weight: number; status: StageHealthStatus }>): number {
  let weighted = 0;
  let total = 0;
  for (const { weight, status } of parts) {
    weighted += weight * HEALTH_SCORE[status];
    total += weight;
  }
  return total === 0 ? 1 : weighted / total;
}

/** `running` at or above `thresholds.degraded` (0.9 by default), `critical` below `thresholds.critical` (0.5), `degraded` between. */
export function systemState(value: number, thresholds: { degraded: number; critical: number }): SystemState {
  if (value < thresholds.critical) return 'critical';
  if (value < thresholds.degraded) return 'degraded';
  return 'running';
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
