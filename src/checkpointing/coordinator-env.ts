// What a checkpoint coordinator gets from its pipeline: the nodes it checkpoints, and the pipeline's
// name, log, clock, event count, pump and observers.
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { GuardsSnapshot } from '../resilience/guards-snapshot.js';
import type { CheckpointObservation } from './observations.js';

/** What the coordinator needs to know of a node. */
export interface CheckpointedNode {
  readonly name: string;
  readonly kind: 'stage' | 'sink';
  restoreFrom(state: unknown): void;
  guards(): { save(): GuardsSnapshot; load(saved: GuardsSnapshot): void } | undefined;
}

/** What the coordinator gets from its pipeline. */
export interface CoordinatorEnv {
  pipeline: string;
  log: Logger;
  clock: Clock;
  /** The nodes now (replicas change with `scale()`). */
  nodes(): readonly CheckpointedNode[];
  /** Source events read so far. */
  events(): number;
  /** Wakes the source pump so that it injects a due barrier. */
  nudge(): void;
  emit(event: CheckpointObservation): void;
}
