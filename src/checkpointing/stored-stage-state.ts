import type { GuardsSnapshot } from '../resilience/guards-snapshot.js';

/** The state a stage snapshot stores: the stage's own state, with its breaker and counters when it has them. */
export interface StoredStageState {
  value: unknown;
  guards?: GuardsSnapshot;
}
