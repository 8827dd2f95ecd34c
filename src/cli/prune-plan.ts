// Which entries `steadfast checkpoints prune --keep n` deletes. Pure over the entries it is given:
// per stage, the newest `keep` snapshots whose checksum verifies stay, with anything newer; per
// pipeline, the newest `keep` readable completed-checkpoint markers stay. Unreadable markers
// (their version unknown) are never deleted.
import { unseal } from '../checkpoint/envelope.js';
import type { RawEntry } from '../checkpoint/types.js';
import { parseKey } from '../core/keys.js';
import { checkEntry } from './entry-check.js';

/** The keys to delete. */
export interface PrunePlan {
  snapshots: string[];
  markers: string[];
}

/** Plans a prune that keeps `keep` (>= 1) good versions per stage and markers per pipeline. */
export async function planPrune(entries: AsyncIterable<RawEntry>, keep: number): Promise<PrunePlan> {
  const stages = new Map<string, Array<{ key: string; good: boolean }>>();
  const markers = new Map<string, Array<{ key: string; version: number }>>();
  for await (const entry of entries) {
    const parsed = parseKey(entry.key);
    if (parsed?.kind === 'ckpt') {
      const id = `${parsed.pipeline}\u0000${parsed.stage}`;
      const list = stages.get(id) ?? [];
      list.push({ key: entry.key, good: unseal(entry.value).ok }); // ascending: entries come in key order
      stages.set(id, list);
    } else if (parsed?.kind === 'done') {
      const checked = checkEntry(entry, false);
      if (!checked.ok) continue;
      const list = markers.get(parsed.pipeline) ?? [];
      list.push({ key: entry.key, version: (checked.value as { version: number }).version });
      markers.set(parsed.pipeline, list);
    }
  }
  const plan: PrunePlan = { snapshots: [], markers: [] };
  for (const list of stages.values()) {
    let good = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const item = list[i] as { key: string; good: boolean };
      if (good >= keep) plan.snapshots.push(item.key);
      else if (item.good) good++;
    }
  }
  for (const list of markers.values()) {
    list.sort((a, b) => b.version - a.version);
    plan.markers.push(...list.slice(keep).map((m) => m.key));
  }
  return plan;
}
