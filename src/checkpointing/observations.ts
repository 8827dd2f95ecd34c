// What the checkpoint coordinator tells the pipeline's observers (`pipeline.observe()`).

/** A stage snapshot was written: its version, encoded size and write time. */
export interface CheckpointWrittenObserved {
  type: 'steadfast.checkpoint.stage_written';
  stage: string;
  version: number;
  bytes: number;
  ms: number;
}

/** A stored snapshot failed its checksum or could not be decoded; it was skipped. */
export interface CheckpointCorruptObserved {
  type: 'steadfast.checkpoint.corrupt';
  stage: string;
  key: string;
  reason: string;
}

/** Every node wrote checkpoint `version`: the source offset up to `offset` is committed. */
export interface CheckpointCompletedObserved {
  type: 'steadfast.checkpoint.completed';
  version: number;
  checkpointId: string;
  offset: number;
  /** From the barrier's injection to the completed marker, monotonic milliseconds. */
  ms: number;
  bytes: number;
}

/** A checkpoint could not complete (a snapshot write failed); the next one will try again. */
export interface CheckpointFailedObserved {
  type: 'steadfast.checkpoint.failed';
  version: number;
  error: unknown;
}

/** The pipeline started from a completed checkpoint: the source replays after `offset`. */
export interface CheckpointRestoredObserved {
  type: 'steadfast.checkpoint.restored';
  version: number;
  offset: number;
}

/** Checkpoints were stored but none could be restored: every stage starts from its initial state. */
export interface CheckpointNoneValidObserved {
  type: 'steadfast.checkpoint.none_valid';
  pipeline: string;
  /** The keys that failed, with why. */
  corrupt: Array<{ key: string; reason: string }>;
}

/** Every observation the checkpoint coordinator makes. */
export type CheckpointObservation =
  | CheckpointWrittenObserved
  | CheckpointCorruptObserved
  | CheckpointCompletedObserved
  | CheckpointFailedObserved
  | CheckpointRestoredObserved
  | CheckpointNoneValidObserved;
