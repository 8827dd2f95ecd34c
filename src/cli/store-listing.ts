// What `steadfast checkpoints list` shows, gathered in one pass over a store's entries.
import type { CompletedCheckpoint, RawEntry, Snapshot } from '../checkpoint/types.js';
import { parseKey } from '../core/keys.js';
import { checkEntry } from './entry-check.js';

/** One stored snapshot: what its key says, and what its bytes hold when they could be read. */
export interface SnapshotListing {
  key: string;
  version: number;
  bytes: number;
  ok: boolean;
  offset?: number;
  createdAt?: number;
  checkpointId?: string;
  problem?: string;
}

/** One completed-checkpoint marker. */
export interface CompletedListing {
  key: string;
  checkpointId: string;
  bytes: number;
  ok: boolean;
  version?: number;
  offset?: number;
  createdAt?: number;
  stages?: string[];
  problem?: string;
}

/** A pipeline's stages (their snapshots newest first) and its completed checkpoints (newest first, unreadable last). */
export interface PipelineListing {
  pipeline: string;
  stages: Array<{ stage: string; snapshots: SnapshotListing[] }>;
  completed: CompletedListing[];
}

/** Lists every pipeline with snapshots or completed checkpoints, in key order. */
export async function listStore(entries: AsyncIterable<RawEntry>, trust: boolean): Promise<PipelineListing[]> {
  const pipelines = new Map<string, PipelineListing>();
  const pipelineOf = (name: string): PipelineListing => {
    let found = pipelines.get(name);
    if (found === undefined) pipelines.set(name, (found = { pipeline: name, stages: [], completed: [] }));
    return found;
  };
  for await (const entry of entries) {
    const parsed = parseKey(entry.key);
    if (parsed?.kind === 'ckpt') {
      const listing = pipelineOf(parsed.pipeline);
      let stage = listing.stages.find((s) => s.stage === parsed.stage);
      if (stage === undefined) listing.stages.push((stage = { stage: parsed.stage, snapshots: [] }));
      stage.snapshots.unshift(snapshotListing(entry, parsed.version, trust));
    } else if (parsed?.kind === 'done') {
      pipelineOf(parsed.pipeline).completed.push(completedListing(entry, parsed.checkpointId));
    }
  }
  for (const listing of pipelines.values()) {
    listing.completed.sort((a, b) => Number(b.ok) - Number(a.ok) || (b.version ?? 0) - (a.version ?? 0) || (b.createdAt ?? 0) - (a.createdAt ?? 0));
  }
  return [...pipelines.values()].sort((a, b) => (a.pipeline < b.pipeline ? -1 : a.pipeline > b.pipeline ? 1 : 0));
}

function snapshotListing(entry: RawEntry, version: number, trust: boolean): SnapshotListing {
  const checked = checkEntry(entry, trust);
  if (!checked.ok) return { key: entry.key, version, bytes: checked.bytes, ok: false, problem: checked.problem };
  const { offset, createdAt, checkpointId } = checked.value as Snapshot;
  return { key: entry.key, version, bytes: checked.bytes, ok: true, offset, createdAt, checkpointId };
}

function completedListing(entry: RawEntry, checkpointId: string): CompletedListing {
  const checked = checkEntry(entry, false);
  if (!checked.ok) return { key: entry.key, checkpointId, bytes: checked.bytes, ok: false, problem: checked.problem };
  const { version, offset, createdAt, stages } = checked.value as CompletedCheckpoint;
  return { key: entry.key, checkpointId, bytes: checked.bytes, ok: true, version, offset, createdAt, stages };
}
