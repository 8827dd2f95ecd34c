import type { BreakerState, OpenReason } from '../../machines/circuit-breaker.machine.js';
import type { windowStats } from '../core/breaker-windows.js';

/** What a breaker has counted; see `breaker.stats()`. */
export interface BreakerStats {
  name: string;
  state: BreakerState;
  /**
   * Calls through the breaker, by outcome. rejected: refused while open, isolated or out of probes;
   * ignored: failed with an error `isFailure` does not count; abandoned: the caller's signal aborted
   * while the work ran (its outcome counts for nothing).
   */
  calls: { succeeded: number; failed: number; rejected: number; ignored: number; abandoned: number };
  /** Transitions into `open` since creation. */
  opens: number;
  lastOpenReason: OpenReason | undefined;
  /** The current windows: calls, failures, slow calls, rates (reset on every transition). */
  window: ReturnType<typeof windowStats>;
}
