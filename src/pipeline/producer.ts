import type { Outlet } from './outlet.js';

/** Something that sends into mailboxes: a stage node or the source pump. Woken when room frees up. */
export interface Producer {
  /** Where its outputs go (recomputed when a node it feeds is scaled). */
  readonly outlet: Outlet;
  /** Waiting for downstream room. */
  isBlocked(): boolean;
  /** Enough room is free downstream for a worthwhile batch. */
  canTake(): boolean;
  /** Room freed up: try again. */
  wake(): void;
  /** A node this one fed a barrier to now has it from all its inputs: one less to wait for. */
  barrierReleased(): void;
}

/** Events buffered across a whole pipeline (queued in mailboxes or in a call), and the peak. */
export interface FlowCounter {
  buffered: number;
  peak: number;
}
