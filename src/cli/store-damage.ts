// What the store commands say about damage below the checksums: records LevelDB dropped while
// opening the store, and checkpoints the directory held (its STEADFAST witness) but holds no more.
import { readWitness } from '../checkpoint/level-integrity.js';
import type { CheckpointStore } from '../checkpoint/types.js';

/** One line per damage found; none for a sound store (or one that is not a LevelDB directory). */
export async function storeDamage(store: CheckpointStore): Promise<string[]> {
  if (store.kind !== 'level') return [];
  const lines = [...((await store.integrity?.())?.dropped ?? [])];
  const witness = await readWitness(store.location);
  if (witness.problem !== undefined) lines.push(witness.problem);
  for (const [pipeline, held] of Object.entries(witness.pipelines)) {
    let newest = 0;
    let unreadable = false;
    for await (const read of store.completed(pipeline)) {
      if (read.ok) newest = Math.max(newest, read.value.version);
      else unreadable = true;
    }
    // An unreadable marker is reported as corrupt on its own, and may be the one the witness names.
    if (unreadable || newest >= held.version) continue;
    const now = newest === 0 ? 'none is left' : `the newest left is ${newest}`;
    lines.push(`pipeline ${JSON.stringify(pipeline)}: the store held completed checkpoint ${held.version} (${new Date(held.at).toISOString()}), ${now}: LevelDB lost data below the checksums`);
  }
  return lines;
}
