// The lifecycle of a checkpoint coordinator, as an explicit union of phases with per-phase data:
// `open` (checkpoints start when due or asked for), `finishing` (the final checkpoint has begun:
// none is asked for any more), `closed` (none starts again; what was in flight was abandoned),
// `closing` (close(): the writers and the store are closing).
import type { SteadfastError } from '../core/errors.js';

/** The final checkpoint (taken as the source ends or stops) and, once it failed, why. */
export interface FinalCheckpoint {
  readonly version: number;
  /** Set when it fails (it stays with the record through `closed` and `closing`). */
  failure: SteadfastError | undefined;
}

/** Where a checkpoint coordinator is. */
export type CoordinatorLife =
  | { phase: 'open' }
  | { phase: 'finishing'; final: FinalCheckpoint }
  /** `final`: the final checkpoint, when one was begun before. */
  | { phase: 'closed'; final: FinalCheckpoint | undefined }
  /** `closed`: settles once the writers (and the store, when this was its last pipeline) are closed. */
  | { phase: 'closing'; final: FinalCheckpoint | undefined; closed: Promise<void> };
