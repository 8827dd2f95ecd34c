// Which entries `steadfast checkpoints prune --keep n` deletes. Pure over the entries it is given.
// It plans per checkpoint, as a restore reads them: a checkpoint is whole when its marker reads and
// every stage snapshot the marker lists, at the marker's version, verifies. Per pipeline the newest
// `keep` whole checkpoints stay, with everything newer than the oldest of them (checkpoints still
// being written, or damaged ones a later repair may save); what is older goes. A pipeline with
// fewer than `keep` whole checkpoints keeps everything. Snapshots of a pipeline without markers (a store used without
// a pipeline) keep the newest `keep` that verify per stage, and anything newer. Unreadable markers
// (their version unknown) are never deleted.
import type { RawEntry } from '../checkpoint/types.js';
import { parseKey } from '../core/keys.js';
import { checkEntry } from './entry-check.js';

/** The keys to delete, and the pipelines left alone because none of their checkpoints is whole. */
export interface PrunePlan {
  snapshots: string[];
  markers: string[];
  /** Pipelines with completed-checkpoint markers of which none is whole: nothing of theirs is deleted. */
  unrestorable: string[];
}

interface SnapshotEntry {
  key: string;
  version: number;
  /** Checksum, codec and record shape hold (a v8 payload only checksummed: it is not decoded here). */
  good: boolean;
}

interface MarkerEntry {
  key: string;
  version: number;
  createdAt: number;
  stages: string[];
}

interface PipelineEntries {
  /** Per stage, in ascending version order (entries come in key order). */
  stages: Map<string, SnapshotEntry[]>;
  markers: MarkerEntry[];
  /** Some marker was stored, readable or not. */
  anyMarker: boolean;
}

/** Plans a prune that keeps the newest `keep` (>= 1) whole checkpoints of each pipeline. */
export async function planPrune(entries: AsyncIterable<RawEntry>, keep: number): Promise<PrunePlan> {
  const pipelines = await gather(entries);
  const plan: PrunePlan = { snapshots: [], markers: [], unrestorable: [] };
  for (const [pipeline, found] of pipelines) {
    if (!found.anyMarker) {
      for (const list of found.stages.values()) plan.snapshots.push(...pruneStage(list, keep));
      continue;
    }
    const { whole, floor } = keptFloor(found, keep);
    if (whole === 0) plan.unrestorable.push(pipeline);
    // Fewer whole checkpoints than `keep`: there is nothing beyond them to let go of.
    if (whole < keep || floor === undefined) continue;
    for (const marker of found.markers) if (marker.version < floor) plan.markers.push(marker.key);
    for (const list of found.stages.values()) for (const s of list) if (s.version < floor) plan.snapshots.push(s.key);
  }
  return plan;
}

async function gather(entries: AsyncIterable<RawEntry>): Promise<Map<string, PipelineEntries>> {
  const pipelines = new Map<string, PipelineEntries>();
  const of = (pipeline: string): PipelineEntries => {
    let found = pipelines.get(pipeline);
    if (found === undefined) pipelines.set(pipeline, (found = { stages: new Map(), markers: [], anyMarker: false }));
    return found;
  };
  for await (const entry of entries) {
    const parsed = parseKey(entry.key);
    if (parsed?.kind === 'ckpt') {
      const checked = checkEntry(entry, false);
      const stages = of(parsed.pipeline).stages;
      const list = stages.get(parsed.stage) ?? [];
      list.push({ key: entry.key, version: parsed.version, good: checked.ok || checked.untrusted });
      stages.set(parsed.stage, list);
    } else if (parsed?.kind === 'done') {
      const found = of(parsed.pipeline);
      found.anyMarker = true;
      const checked = checkEntry(entry, false);
      if (!checked.ok) continue;
      const done = checked.value as { version: number; createdAt: number; stages: string[] };
      found.markers.push({ key: entry.key, version: done.version, createdAt: done.createdAt, stages: done.stages });
    }
  }
  return pipelines;
}

/** How many of the newest `keep` checkpoints are whole, and the version of the oldest of them. */
function keptFloor(found: PipelineEntries, keep: number): { whole: number; floor: number | undefined } {
  const newestFirst = [...found.markers].sort((a, b) => b.version - a.version || b.createdAt - a.createdAt);
  let kept = 0;
  let floor: number | undefined;
  for (const marker of newestFirst) {
    if (kept >= keep) break;
    if (!isWhole(found, marker)) continue;
    kept++;
    floor = marker.version;
  }
  return { whole: kept, floor };
}

function isWhole(found: PipelineEntries, marker: MarkerEntry): boolean {
  return marker.stages.every((stage) => found.stages.get(stage)?.some((s) => s.version === marker.version && s.good) === true);
}

/** Per stage without markers: all but the newest `keep` good versions and anything newer than them. */
function pruneStage(list: readonly SnapshotEntry[], keep: number): string[] {
  const doomed: string[] = [];
  let good = 0;
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i] as SnapshotEntry;
    if (good >= keep) doomed.push(item.key);
    else if (item.good) good++;
  }
  return doomed;
}
