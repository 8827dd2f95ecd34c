// What a pipeline's `stats()` tells of its checkpoints, and the coordinator's counts behind it.
import type { CompletedCheckpoint } from '../checkpoint/types.js';

/** The last snapshot a stage instance wrote. */
export interface StageCheckpointInfo {
  version: number;
  /** Epoch milliseconds. */
  at: number;
  bytes: number;
}

/** Checkpoint counters of a pipeline, in `stats().checkpoint`. */
export interface CheckpointStats {
  /** The last completed checkpoint (restored or taken in this run). */
  last: { version: number; offset: number; at: number } | null;
  /** Version of the checkpoint in flight. */
  inFlight: number | null;
  completed: number;
  failed: number;
  /** Stored values that failed their checksum or decoding, at restore. */
  corrupt: number;
  /** The checkpoint this run started from. */
  restored: { version: number; offset: number } | null;
  /** Barrier injection to completed marker, of the last completed checkpoint. */
  lastMs: number | null;
  lastBytes: number | null;
}

/** The counts a coordinator keeps for `stats().checkpoint`. */
export class CheckpointCounts {
  private readonly counts: CheckpointStats = { last: null, inFlight: null, completed: 0, failed: 0, corrupt: 0, restored: null, lastMs: null, lastBytes: null };

  /** The run started from checkpoint `done`. */
  restored(done: CompletedCheckpoint): void {
    this.counts.last = { version: done.version, offset: done.offset, at: done.createdAt };
    this.counts.restored = { version: done.version, offset: done.offset };
  }

  /** Checkpoint `done` completed, `ms` after its barrier was injected, with `bytes` of snapshots. */
  completed(done: CompletedCheckpoint, ms: number, bytes: number): void {
    this.counts.completed++;
    this.counts.last = { version: done.version, offset: done.offset, at: done.createdAt };
    this.counts.lastMs = ms;
    this.counts.lastBytes = bytes;
  }

  /** A checkpoint failed. */
  failed(): void {
    this.counts.failed++;
  }

  /** A stored value failed its checksum or decoding. */
  corrupt(): void {
    this.counts.corrupt++;
  }

  /** The newest checkpoint in flight now (null: none). */
  inFlight(version: number | null): void {
    this.counts.inFlight = version;
  }

  /** A copy of the counts. */
  stats(): CheckpointStats {
    return { ...this.counts, last: this.counts.last === null ? null : { ...this.counts.last } };
  }
}
