import type { CheckpointStore, CompletedCheckpoint } from './types.js';

/** A stored value that could not be used, and why. */
export interface CorruptEntry {
  key: string;
  reason: string;
  stage?: string;
}

/** What a restore found: the checkpoint to start from (if any), and what it had to skip. */
export interface RestoreSearch {
  point: { done: CompletedCheckpoint; states: Map<string, unknown> } | undefined;
  corrupt: CorruptEntry[];
  /** Some completed-checkpoint marker was stored (readable or not). */
  sawCompleted: boolean;
  /** The highest version seen in a marker: new checkpoints continue after it. */
  maxVersion: number;
}

/**
 * Finds the newest completed checkpoint of `pipeline` whose snapshots of `stages` all verify and
 * decode. A corrupt marker or snapshot is recorded and the next older checkpoint is tried, so that
 * all stages always come back from the same checkpoint. A stage missing from a checkpoint that
 * does not list it (added since) is left out: it starts fresh.
 */
export async function findRestorePoint(store: CheckpointStore, pipeline: string, stages: readonly string[]): Promise<RestoreSearch> {
  const search: RestoreSearch = { point: undefined, corrupt: [], sawCompleted: false, maxVersion: 0 };
  for await (const marker of store.completed(pipeline)) {
    search.sawCompleted = true;
    if (!marker.ok) {
      search.corrupt.push({ key: marker.key, reason: marker.reason });
      continue;
    }
    const done = marker.value;
    search.maxVersion = Math.max(search.maxVersion, done.version);
    const states = new Map<string, unknown>();
    let usable = true;
    for (const stage of stages) {
      const read = await store.readSnapshot(pipeline, stage, done.version);
      if (read === undefined) {
        if (!done.stages.includes(stage)) continue;
        search.corrupt.push({ key: `${pipeline}/${stage}@${done.version}`, reason: 'snapshot missing', stage });
        usable = false;
        break;
      }
      if (!read.ok) {
        search.corrupt.push({ key: read.key, reason: read.reason, stage });
        usable = false;
        break;
      }
      states.set(stage, read.value.state);
    }
    if (usable) {
      search.point = { done, states };
      return search;
    }
  }
  return search;
}
