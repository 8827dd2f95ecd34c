import type { BreakerSnapshot } from './breaker-snapshot.js';

/** A stage's breaker state and resilience counters, as checkpoints carry them. */
export interface GuardsSnapshot {
  breaker?: BreakerSnapshot;
  counters: { retries: number; degraded: number; deadLetters: number };
}
