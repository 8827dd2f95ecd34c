import type { BreakerState } from '../../machines/circuit-breaker.machine.js';
import type { PipelineObservation } from '../pipeline/observer.js';

/** A value observed into a histogram (a prom-client child bound to its labels). */
export interface Observe {
  observe(value: number): void;
}

/**
 * What metrics count from one pipeline's observer events (rare ones: transitions, escalations,
 * checkpoints); the hot counters are read from `stats()` at scrape time instead.
 */
export interface PipelineTally {
  /** Per breaker, transitions into each state. */
  transitions: Map<string, Map<BreakerState, number>>;
  escalations: number;
  flapping: Map<string, number>;
  corrupt: Map<string, number>;
  /** Encoded size of the last snapshot written, per stage. */
  checkpointBytes: Map<string, number>;
}

export function emptyTally(): PipelineTally {
  return { transitions: new Map(), escalations: 0, flapping: new Map(), corrupt: new Map(), checkpointBytes: new Map() };
}

/** Histograms fed by events, through children cached per stage so that a call allocates nothing. */
export interface TallyHistograms {
  latency(stage: string): Observe;
  checkpoint(stage: string): Observe;
}

/** Applies one observer event to the tally and histograms. */
export function countObservation(tally: PipelineTally, histograms: TallyHistograms, event: PipelineObservation): void {
  switch (event.type) {
    case 'steadfast.stage.call':
      histograms.latency(event.stage).observe(event.ms / 1000);
      return;
    case 'steadfast.breaker.transition': {
      let byState = tally.transitions.get(event.breaker);
      if (byState === undefined) tally.transitions.set(event.breaker, (byState = new Map()));
      byState.set(event.state, (byState.get(event.state) ?? 0) + 1);
      return;
    }
    case 'steadfast.supervisor.escalated':
      tally.escalations++;
      return;
    case 'steadfast.supervisor.flapping':
      tally.flapping.set(event.pattern, (tally.flapping.get(event.pattern) ?? 0) + 1);
      return;
    case 'steadfast.checkpoint.stage_written':
      histograms.checkpoint(event.stage).observe(event.ms / 1000);
      tally.checkpointBytes.set(event.stage, event.bytes);
      return;
    case 'steadfast.checkpoint.corrupt':
      tally.corrupt.set(event.stage, (tally.corrupt.get(event.stage) ?? 0) + 1);
      return;
    case 'steadfast.supervisor.restarting':
      // Counted from stats() (per stage instance), which also covers restarts made before tracking.
      return;
  }
}
