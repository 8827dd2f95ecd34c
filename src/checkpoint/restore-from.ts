// Time travel at start: `pipeline.start({ from: checkpointId })` restores exactly that completed
// checkpoint, or fails with a typed error; the run then branches from it in the same store, above
// its newest version, and never deletes a checkpoint it did not write (docs/checkpointing.md
// "History and time travel").
import { CheckpointStoreError, ConfigError } from '../core/errors.js';
import { keyName, snapshotKey } from '../core/keys.js';
import { findCheckpoint } from './history.js';
import type { CorruptEntry, RestoreSearch } from './restore.js';
import type { CheckpointStore } from './types.js';

const pins = new WeakMap<CheckpointStore, Map<string, string>>();

/**
 * Makes the next restore of `pipeline` on `store` use checkpoint `from` (`start({ from })`); the
 * restore takes the pin. CONFIG_INVALID for an id no checkpoint can have.
 */
export function pinRestorePoint(store: CheckpointStore, pipeline: string, from: unknown): void {
  keyName('from', from);
  let byPipeline = pins.get(store);
  if (byPipeline === undefined) pins.set(store, (byPipeline = new Map()));
  byPipeline.set(pipeline, from as string);
}

/** The checkpoint pinned for the next restore of `pipeline` on `store`, taken off (`undefined`: none). */
export function takePinnedRestorePoint(store: CheckpointStore, pipeline: string): string | undefined {
  const byPipeline = pins.get(store);
  const from = byPipeline?.get(pipeline);
  byPipeline?.delete(pipeline);
  return from;
}

/** `start()`'s options, checked: `from` needs the `checkpoint` option. */
export function startFrom(options: unknown, store: CheckpointStore | undefined, pipeline: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigError('options', options, 'must be an object such as { from: checkpointId }');
  for (const key of Object.keys(options)) if (key !== 'from') throw new ConfigError(`options.${key}`, (options as Record<string, unknown>)[key], 'is not an option of start() (known: from)');
  const { from } = options as { from?: unknown };
  if (from === undefined) return;
  if (store === undefined) throw new ConfigError('options.from', from, `needs the checkpoint option: pipeline "${pipeline}" keeps no checkpoints`);
  pinRestorePoint(store, pipeline, from);
}

/**
 * The restore point of a run started from checkpoint `from`: that completed checkpoint, whose
 * snapshots of `stages` must all be there and verify (a stage it does not list starts fresh).
 * CHECKPOINT_NOT_FOUND (listing the kept ids) for an unknown id, CHECKPOINT_CORRUPT naming every
 * bad entry, CHECKPOINT_FROM_REFUSED when newer checkpoints exist and the pipeline's push journal
 * holds events (they belong to the newer timeline). On success the store keeps, until it is
 * closed, every version up to its newest: the run prunes only what it writes.
 */
export async function findExactRestorePoint(store: CheckpointStore, pipeline: string, stages: readonly string[], from: string): Promise<RestoreSearch> {
  const integrity = await store.integrity?.(pipeline);
  const corrupt: CorruptEntry[] = (integrity?.dropped ?? []).map((dropped) => ({ key: 'LevelDB log', reason: dropped }));
  const done = await findCheckpoint(store, pipeline, from);
  let maxVersion = done.version;
  for await (const marker of store.completed(pipeline)) if (marker.ok) maxVersion = Math.max(maxVersion, marker.value.version);
  const states = new Map<string, unknown>();
  const bad: string[] = [];
  for (const stage of stages) {
    const read = await store.readSnapshot(pipeline, stage, done.version);
    if (read === undefined) {
      if (done.stages.includes(stage)) bad.push(`${snapshotKey(pipeline, stage, done.version)}: snapshot missing`);
    } else if (!read.ok) bad.push(`${read.key}: ${read.reason}`);
    else states.set(stage, read.value.state);
  }
  const name = `checkpoint ${JSON.stringify(from)} (version ${done.version}) of pipeline ${JSON.stringify(pipeline)}`;
  if (bad.length > 0) throw new CheckpointStoreError('CHECKPOINT_CORRUPT', store.location, `cannot start from ${name}: it does not verify whole: ${bad.join('; ')}`);
  if (maxVersion > done.version) {
    for await (const entry of store.journal(pipeline)) {
      throw new CheckpointStoreError(
        'CHECKPOINT_FROM_REFUSED',
        store.location,
        `cannot start from ${name} in place: the store holds newer checkpoints and its push journal holds events of the newest (${entry.key}); fork it instead: \`steadfast checkpoints fork ${store.location} --at ${from} --to <newdir>\``,
      );
    }
  }
  store.retainThrough?.(pipeline, maxVersion);
  return { point: { done, states }, corrupt, sawCompleted: true, maxVersion };
}
