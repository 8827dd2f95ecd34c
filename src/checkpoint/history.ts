// A pipeline's checkpoint history as its store keeps it: every completed checkpoint with its
// committed offset, size and whether it verifies whole, and the stage states of any one of them.
// What `steadfast checkpoints list|show --at|diff|fork` and `start({ from })` read.
import { CheckpointStoreError } from '../core/errors.js';
import { doneKey, keyName, snapshotKey } from '../core/keys.js';
import { V8_NOT_TRUSTED, open } from './envelope.js';
import { snapshotCheck } from './records.js';
import type { CorruptEntry } from './restore.js';
import type { CheckpointStore, CompletedCheckpoint, RawEntry, ReadResult, Snapshot } from './types.js';

/** One kept checkpoint of a pipeline (its completed marker), as `steadfast checkpoints list` shows it. */
export interface CheckpointRecord extends CompletedCheckpoint {
  /** Stored bytes of its snapshots (headers included), of those present. */
  bytes: number;
  /** Its marker and every snapshot it lists are there and verify (checksum, record shape; v8 payloads by checksum only). */
  verified: boolean;
  /** What keeps it from verifying: a missing or corrupt snapshot, by key. */
  problems: CorruptEntry[];
}

/**
 * The completed checkpoints of `pipeline`, newest first, each checked whole. Markers that cannot be
 * read are left out (`store.completed()` reports them, and `steadfast checkpoints verify`).
 */
export async function checkpointHistory(store: CheckpointStore, pipeline: string): Promise<CheckpointRecord[]> {
  keyName('pipeline', pipeline);
  const records: CheckpointRecord[] = [];
  for await (const marker of store.completed(pipeline)) {
    if (!marker.ok) continue;
    const done = marker.value;
    let bytes = 0;
    const problems: CorruptEntry[] = [];
    for (const stage of done.stages) {
      const key = snapshotKey(pipeline, stage, done.version);
      const raw = await rawEntry(store, key);
      if (raw === undefined) {
        problems.push({ key, reason: 'snapshot missing', stage });
        continue;
      }
      bytes += raw.value.length;
      const problem = snapshotProblem(raw);
      if (problem !== undefined) problems.push({ key, reason: problem, stage });
    }
    records.push({ ...done, stages: [...done.stages], bytes, verified: problems.length === 0, problems });
  }
  return records;
}

/** A completed checkpoint and the read of each snapshot it lists (`undefined`: not stored). */
export interface CheckpointStates {
  done: CompletedCheckpoint;
  snapshots: Array<{ stage: string; read: ReadResult<Snapshot> | undefined }>;
}

/**
 * The completed checkpoint `checkpointId` of `pipeline` and its snapshots, read and decoded;
 * CHECKPOINT_NOT_FOUND (listing the ids kept) when the store has no such checkpoint.
 */
export async function readCheckpointStates(store: CheckpointStore, pipeline: string, checkpointId: string): Promise<CheckpointStates> {
  const done = await findCheckpoint(store, pipeline, checkpointId);
  const snapshots: CheckpointStates['snapshots'] = [];
  for (const stage of done.stages) snapshots.push({ stage, read: await store.readSnapshot(pipeline, stage, done.version) });
  return { done, snapshots };
}

/** The stage states of a checkpoint whose snapshots all read; CHECKPOINT_CORRUPT naming every one that does not. */
export function wholeStates(states: CheckpointStates, location: string): Map<string, unknown> {
  const found = new Map<string, unknown>();
  const bad: string[] = [];
  for (const { stage, read } of states.snapshots) {
    if (read === undefined) bad.push(`${snapshotKey(states.done.pipeline, stage, states.done.version)}: snapshot missing`);
    else if (!read.ok) bad.push(`${read.key}: ${read.reason}`);
    else found.set(stage, read.value.state);
  }
  if (bad.length > 0) {
    const { pipeline, checkpointId, version } = states.done;
    throw new CheckpointStoreError('CHECKPOINT_CORRUPT', location, `checkpoint ${JSON.stringify(checkpointId)} (version ${version}) of pipeline ${JSON.stringify(pipeline)} does not verify whole: ${bad.join('; ')}`);
  }
  return found;
}

/** The readable marker of `checkpointId`; CHECKPOINT_NOT_FOUND listing the checkpoints kept when there is none. */
export async function findCheckpoint(store: CheckpointStore, pipeline: string, checkpointId: string): Promise<CompletedCheckpoint> {
  keyName('pipeline', pipeline);
  keyName('checkpointId', checkpointId);
  const kept: string[] = [];
  let unreadable: string | undefined;
  for await (const marker of store.completed(pipeline)) {
    if (marker.ok && marker.value.checkpointId === checkpointId) return marker.value;
    if (marker.ok) kept.push(`${marker.value.checkpointId} (version ${marker.value.version})`);
    else if (marker.key === doneKey(pipeline, checkpointId)) unreadable = marker.reason;
  }
  if (unreadable !== undefined) {
    throw new CheckpointStoreError('CHECKPOINT_CORRUPT', store.location, `the marker of checkpoint ${JSON.stringify(checkpointId)} of pipeline ${JSON.stringify(pipeline)} is corrupt: ${unreadable}`);
  }
  const list = kept.length === 0 ? 'it keeps none' : `it keeps ${kept.join(', ')}`;
  throw new CheckpointStoreError('CHECKPOINT_NOT_FOUND', store.location, `no completed checkpoint ${JSON.stringify(checkpointId)} of pipeline ${JSON.stringify(pipeline)} in ${store.location}: ${list}`);
}

/** The raw entry stored under exactly `key`, if any. */
export async function rawEntry(store: CheckpointStore, key: string): Promise<RawEntry | undefined> {
  for await (const entry of store.entries(key)) return entry.key === key ? entry : undefined;
  return undefined;
}

/** Why a raw snapshot entry does not verify; `undefined` when it does (a v8 payload: by its checksum). */
function snapshotProblem(entry: RawEntry): string | undefined {
  const opened = open(entry.value, { decodeV8: false });
  if (!opened.ok) return opened.reason === V8_NOT_TRUSTED ? undefined : opened.reason;
  return snapshotCheck(opened.value, entry.key);
}
