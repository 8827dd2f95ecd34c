import type { BreakerState } from '../../machines/circuit-breaker.machine.js';

/** A breaker's saved state (`toJSON()`), restorable with `circuitBreaker({ ..., initialState })`. */
export interface BreakerSnapshot {
  version: 1;
  name: string;
  state: BreakerState;
  /** Consecutive re-opens: the next open lasts longer. */
  reopens: number;
  /** For an open breaker: how long it stays open. */
  openRemainingMs?: number;
  windows: unknown;
}
