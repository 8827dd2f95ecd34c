// Which snapshots of a stage instance leave when the checkpoints below a version are pruned, found
// without a scan once the store knows what it wrote (it holds the lock: nobody else writes).
import { metaKey, snapshotKey, snapshotPrefix } from '../core/keys.js';
import type { KvBackend, KvOp } from './kv.js';

/** Adds the deletion of old snapshots to a write batch, remembering per stage what it wrote and pruned. */
export class SnapshotPruner {
  readonly #backend: KvBackend;
  /** Per `meta!` key of a stage instance, the version below which its snapshots are pruned. */
  readonly #prunedBelow = new Map<string, number>();
  /** Versions of each stage written since the first prune (which scanned for older ones): pruned by key, no scan. */
  readonly #written = new Map<string, number[]>();
  /** Per pipeline, the versions at or below which pruning spares snapshots and markers (`retainThrough`), for the store's life. */
  readonly #retained = new Map<string, number>();

  constructor(backend: KvBackend) {
    this.#backend = backend;
  }

  /** From now on pruning spares the pipeline's versions up to `version` (a run started from an older checkpoint). */
  retain(pipeline: string, version: number): void {
    this.#retained.set(pipeline, version);
  }

  /** The version up to which the pipeline's checkpoints are spared, if any. */
  retained(pipeline: string): number | undefined {
    return this.#retained.get(pipeline);
  }

  /** Forgets what it knew it wrote (the store opened again, or was repaired); what it must spare stays. */
  forget(): void {
    this.#prunedBelow.clear();
    this.#written.clear();
  }

  /**
   * Adds to `ops` the deletion of a stage's snapshots below `pruneBelow` (but `writing`, the one
   * written in the same batch); returns what to remember once the batch is written. The first
   * prune of a stage scans (versions of earlier runs); later ones delete the versions written since.
   */
  async prune(pipeline: string, stage: string, pruneBelow: number | undefined, ops: KvOp[], writing?: number): Promise<() => void> {
    const meta = metaKey(pipeline, stage);
    // Versions below a floor already pruned cannot have come back: only newer ones are written.
    const prune = pruneBelow !== undefined && pruneBelow > (this.#prunedBelow.get(meta) ?? 0);
    const written = this.#written.get(meta);
    let kept = written;
    if (prune && written === undefined) {
      const keep = writing === undefined ? undefined : snapshotKey(pipeline, stage, writing);
      const retained = this.#retained.get(pipeline);
      const from = retained === undefined ? snapshotPrefix(pipeline, stage) : snapshotKey(pipeline, stage, retained + 1);
      for await (const old of this.#backend.keys({ gte: from, lt: snapshotKey(pipeline, stage, pruneBelow) })) {
        if (old !== keep) ops.push({ type: 'del', key: old });
      }
      kept = [];
    } else if (prune && written !== undefined) {
      kept = [];
      for (const version of written) {
        if (version < pruneBelow && version !== writing) ops.push({ type: 'del', key: snapshotKey(pipeline, stage, version) });
        else kept.push(version);
      }
    }
    return () => {
      if (prune) this.#prunedBelow.set(meta, pruneBelow);
      if (kept === undefined) return;
      if (writing !== undefined && !kept.includes(writing)) kept.push(writing);
      this.#written.set(meta, kept);
    };
  }
}
