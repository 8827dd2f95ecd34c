import type { Strategy } from '../../supervisors/strategies.js';
import type { SupervisorStateValue } from '../../supervisors/supervisor.machine.js';

/** Counters of a supervisor; see `supervisor.stats()`. */
export interface SupervisorStats {
  name: string;
  state: SupervisorStateValue;
  strategy: Strategy;
  children: number;
  running: number;
  restarting: number;
  /** Restarts made since start. */
  restarts: number;
  /** Restarts inside the current intensity window, and its limit. */
  intensity: { restarts: number; maxRestarts: number; withinMs: number };
  /** Children killed because they did not stop within their shutdown budget. */
  killed: number;
  /**
   * Worst case of restarts of one worker of this tree within one window: restarts multiply up the
   * tree (each time a supervisor gives up, its parent restarts it with a fresh budget).
   */
  budget: number;
}
