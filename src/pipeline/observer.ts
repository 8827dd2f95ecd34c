import type { BreakerState } from '../../machines/circuit-breaker.machine.js';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import type { FlapPattern } from '../../supervisors/flapping.js';
import type { ExitKind } from '../../supervisors/restart-decision.js';
import type { BreakerRegistry } from '../resilience/breaker-registry.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type {
  CheckpointCompletedObserved,
  CheckpointCorruptObserved,
  CheckpointFailedObserved,
  CheckpointNoneValidObserved,
  CheckpointRestoredObserved,
  CheckpointWrittenObserved,
} from '../checkpointing/observations.js';

export type {
  CheckpointCompletedObserved,
  CheckpointCorruptObserved,
  CheckpointFailedObserved,
  CheckpointNoneValidObserved,
  CheckpointRestoredObserved,
  CheckpointWrittenObserved,
};

/**
 * A stage instance finished a call: `events` it took, `ms` spent (monotonic clock), `ok` unless it
 * failed. The events of a failed batch after the failing one go back to the mailbox and are taken again.
 */
export interface CallObserved {
  type: 'steadfast.stage.call';
  /** Instance name (replicas are `<group>#<i>`). */
  stage: string;
  /** Graph node the instance belongs to. */
  group: string;
  events: number;
  ms: number;
  /** The call returned (false: it failed as a whole, and its events with it). */
  ok: boolean;
  /** Events of the call that failed (with `onFailure: 'resume'` a call goes on past them). */
  failed: number;
}

/** The pipeline's supervisor is restarting a stage that exited. */
export interface RestartObserved {
  type: 'steadfast.supervisor.restarting';
  supervisor: string;
  stage: string;
  exit: ExitKind;
  error: unknown;
}

/** The supervisor saw a flapping pattern among the failing stages. */
export interface FlappingObserved {
  type: 'steadfast.supervisor.flapping';
  supervisor: string;
  pattern: FlapPattern;
  stages: string[];
}

/** The supervisor gave up (restart intensity, flapping, or a failed start). */
export interface EscalationObserved {
  type: 'steadfast.supervisor.escalated';
  escalation: Escalation;
}

/** A breaker of the pipeline changed state; `isolated` is a forced open (see `breaker.isolate()`). */
export interface BreakerObserved {
  type: 'steadfast.breaker.transition';
  breaker: string;
  state: BreakerState;
}

/** What `pipeline.observe()` listeners hear: a side channel for metrics, health and dashboards. */
export type PipelineObservation =
  | CheckpointCompletedObserved
  | CheckpointFailedObserved
  | CheckpointRestoredObserved
  | CheckpointNoneValidObserved
  | CallObserved
  | RestartObserved
  | FlappingObserved
  | EscalationObserved
  | BreakerObserved
  | CheckpointWrittenObserved
  | CheckpointCorruptObserved;

/** A listener of `pipeline.observe()`. */
export type PipelineObserver = (event: PipelineObservation) => void;

/**
 * The listeners of one pipeline. Emitters check `size` first, so that nothing is allocated on the
 * hot path while nobody listens; a listener that throws is ignored (observation never breaks the flow).
 */
export class Observers {
  private readonly listeners = new Set<PipelineObserver>();

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: PipelineObserver): () => void {
    // A wrapper per subscription, so the same function added twice is removed once per unsubscribe.
    const entry: PipelineObserver = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: PipelineObservation): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not break the pipeline
      }
    }
  }
}

const BREAKER_STATES = {
  'steadfast.breaker.opened': 'open',
  'steadfast.breaker.halfOpened': 'halfOpen',
  'steadfast.breaker.closed': 'closed',
  'steadfast.breaker.isolated': 'isolated',
} as const satisfies Record<string, BreakerState>;

/** Forwards the supervisor's events and the breakers' transitions to `observers`; returns the unsubscribe function. */
export function forwardSupervision(supervisor: Supervisor, breakers: BreakerRegistry, observers: Observers): () => void {
  const offs = [
    supervisor.on('steadfast.supervisor.restarting', (e) => {
      if (observers.size > 0) observers.emit({ type: 'steadfast.supervisor.restarting', supervisor: e.supervisor, stage: e.child, exit: e.exit, error: e.error });
    }),
    supervisor.on('steadfast.supervisor.flapping', (e) => {
      if (observers.size > 0) observers.emit({ type: 'steadfast.supervisor.flapping', supervisor: e.supervisor, pattern: e.pattern, stages: [...e.children] });
    }),
    supervisor.on('steadfast.supervisor.escalated', (e) => {
      if (observers.size > 0) observers.emit({ type: 'steadfast.supervisor.escalated', escalation: e.escalation });
    }),
    breakers.on((e) => {
      if (observers.size > 0) observers.emit({ type: 'steadfast.breaker.transition', breaker: e.breaker, state: BREAKER_STATES[e.type] });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
