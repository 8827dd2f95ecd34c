import { isSteadfastError, messageOf } from '../core/errors.js';
import { WITNESS_FILE } from './level-integrity.js';
import { findExactRestorePoint, takePinnedRestorePoint } from './restore-from.js';
import type { CheckpointStore, CompletedCheckpoint, RepairReport, StoreIntegrity } from './types.js';

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
  /** Set when the store was repaired before the search (`repairOnCorruption`). */
  repaired?: RepairReport;
}

/**
 * Finds the newest completed checkpoint of `pipeline` whose snapshots of `stages` all verify and
 * decode. A corrupt marker or snapshot is recorded and the next older checkpoint is tried, so that
 * all stages always come back from the same checkpoint. A stage missing from a checkpoint that
 * does not list it (added since) is left out: it starts fresh. Damage below the checksums that the
 * store knows of (records LevelDB dropped while opening, checkpoints its directory held and no
 * longer has) is recorded as corrupt too, so that a store that lost data never reads as new.
 */
export async function findRestorePoint(store: CheckpointStore, pipeline: string, stages: readonly string[]): Promise<RestoreSearch> {
  const integrity = await store.integrity?.(pipeline);
  const search: RestoreSearch = { point: undefined, corrupt: [], sawCompleted: false, maxVersion: 0 };
  for (const dropped of integrity?.dropped ?? []) search.corrupt.push({ key: 'LevelDB log', reason: dropped });
  let unreadableMarkers = 0;
  for await (const marker of store.completed(pipeline)) {
    search.sawCompleted = true;
    if (!marker.ok) {
      unreadableMarkers++;
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
      break;
    }
  }
  // Markers come newest first (unreadable ones last): the first readable one has the highest
  // version. An unreadable marker may be the witnessed one, and is reported already.
  const lost = unreadableMarkers === 0 ? witnessLoss(pipeline, integrity, search.maxVersion) : undefined;
  if (lost !== undefined) search.corrupt.push(lost);
  return search;
}

/** The checkpoint the witness file remembers, when the store no longer holds it nor anything newer. */
function witnessLoss(pipeline: string, integrity: StoreIntegrity | undefined, newest: number): CorruptEntry | undefined {
  const witnessed = integrity?.witnessed;
  if (witnessed === undefined || newest >= witnessed.version) return undefined;
  const now = newest === 0 ? 'it holds none now' : `the newest it holds now is ${newest}`;
  return {
    key: WITNESS_FILE,
    reason: `the store held completed checkpoint ${witnessed.version} of "${pipeline}" (written ${new Date(witnessed.at).toISOString()}), and ${now}: LevelDB lost data below the checksums`,
  };
}

/** How a restore treats a store that LevelDB itself reports corrupt. */
export interface RestoreOpenOptions {
  /** Run LevelDB's repair and search what it saved, instead of failing with CHECKPOINT_CORRUPT. */
  repairOnCorruption: boolean;
  /**
   * Restore exactly this completed checkpoint (`start({ from })`), or fail with a typed error;
   * when left out, the checkpoint pinned by `pinRestorePoint`, if any, else the newest valid one.
   */
  from?: string;
}

/**
 * Opens the store and finds the restore point. When LevelDB reports the store corrupt (opening or
 * reading fails with CHECKPOINT_CORRUPT), that error is thrown, unless `repairOnCorruption`: then
 * the store is repaired with LevelDB's repair, searched again, and the repair is recorded among
 * the corrupt entries (with what LevelDB kept and dropped).
 */
export async function openAndFindRestorePoint(store: CheckpointStore, pipeline: string, stages: readonly string[], options: RestoreOpenOptions): Promise<RestoreSearch> {
  const from = options.from ?? takePinnedRestorePoint(store, pipeline);
  const find = (): Promise<RestoreSearch> => (from === undefined ? findRestorePoint(store, pipeline, stages) : findExactRestorePoint(store, pipeline, stages, from));
  try {
    await store.open();
    return await find();
  } catch (error) {
    // Only LevelDB's own reports (they carry LevelDB's error as cause) are repaired: a checkpoint
    // named by `from` whose entries fail their checksums is the caller's to know of, not LevelDB's.
    if (!options.repairOnCorruption || !isSteadfastError(error, 'CHECKPOINT_CORRUPT') || store.repair === undefined || (error as { cause?: unknown }).cause === undefined) throw error;
    const repaired = await store.repair();
    const search = await find();
    const saved = repaired.log.length === 0 ? '' : `: ${repaired.log.join('; ')}`;
    search.corrupt.unshift({ key: 'LevelDB', reason: `${levelWords(error)}; repaired with LevelDB's repair (repairOnCorruption)${saved}` });
    search.repaired = repaired;
    return search;
  }
}

/** LevelDB's own words in a CHECKPOINT_CORRUPT error, without our advice to repair. */
function levelWords(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  let inner: unknown = cause ?? error;
  for (let depth = 0; depth < 8 && inner instanceof Error && inner.cause !== undefined; depth++) inner = inner.cause;
  return `LevelDB reported the store corrupt ("${messageOf(inner)}")`;
}
