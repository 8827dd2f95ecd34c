// Which pipelines run on a checkpoint store object: one name at a time per store, so that two
// live pipelines never overwrite each other's checkpoints; the store closes with its last pipeline.
import { ConfigError } from '../core/errors.js';
import type { CheckpointStore } from './types.js';

const claims = new WeakMap<CheckpointStore, Set<string>>();

/**
 * Claims `store` for the pipeline named `pipeline`; CONFIG_INVALID if a live pipeline of that name
 * already runs on it. Returns the release, which answers whether no pipeline uses the store any more.
 */
export function claimStore(store: CheckpointStore, pipeline: string): () => boolean {
  let names = claims.get(store);
  if (names === undefined) {
    names = new Set();
    claims.set(store, names);
  }
  if (names.has(pipeline)) {
    throw new ConfigError('pipeline.name', pipeline, `must be unique among the pipelines running on one checkpoint store (${store.location}): another pipeline of that name is running on it`);
  }
  names.add(pipeline);
  let released = false;
  const held = names;
  return () => {
    if (!released) {
      released = true;
      held.delete(pipeline);
    }
    return held.size === 0;
  };
}
