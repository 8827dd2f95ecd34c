// The part of a checkpoint store that watches for damage below the checksums (level stores): the
// witness of completed checkpoints, what LevelDB dropped while opening, and LevelDB's repair.
import { CheckpointStoreError, messageOf } from '../core/errors.js';
import type { KvBackend, KvIntegrity } from './kv.js';
import type { StoreLifecycle } from './store-lifecycle.js';
import type { CompletedCheckpoint, RepairReport, StoreIntegrity } from './types.js';

/** Integrity of one store; a backend without a LevelDB directory has none to watch. */
export class IntegrityWatch {
  readonly #integrity: KvIntegrity | undefined;
  readonly #life: StoreLifecycle;
  readonly #location: string;
  #witnessProblem: string | undefined;

  constructor(backend: KvBackend, life: StoreLifecycle) {
    const candidate = backend as Partial<KvIntegrity>;
    this.#integrity = typeof candidate.openDamage === 'function' ? (backend as unknown as KvIntegrity) : undefined;
    this.#life = life;
    this.#location = backend.location;
  }

  async report(pipeline: string | undefined): Promise<StoreIntegrity> {
    const integrity = this.#integrity;
    if (integrity === undefined) return { dropped: [], witnessed: undefined };
    await this.#life.open();
    const witness = integrity.witness();
    const report: StoreIntegrity = { dropped: [...integrity.openDamage()], witnessed: pipeline === undefined ? undefined : witness.pipelines[pipeline] };
    const problem = this.#witnessProblem ?? witness.problem;
    if (problem !== undefined) report.witnessProblem = problem;
    return report;
  }

  /** Remembers the newest completed checkpoint beside the data, to notice later if LevelDB loses it. */
  async witness(done: CompletedCheckpoint): Promise<void> {
    if (this.#integrity === undefined) return;
    try {
      await this.#integrity.recordWitness(done.pipeline, { version: done.version, checkpointId: done.checkpointId, at: done.createdAt });
      this.#witnessProblem = undefined;
    } catch (error) {
      // Best effort: the checkpoint itself is stored; only its witness is missing.
      this.#witnessProblem = `the STEADFAST witness file could not be written: ${messageOf(error)}`;
    }
  }

  /** Closes the store, runs LevelDB's repair, opens it again. */
  async repair(readOnly: boolean): Promise<RepairReport> {
    const integrity = this.#integrity;
    const location = this.#location;
    if (integrity === undefined) throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', location, 'a memory store cannot be repaired');
    if (readOnly) throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', location, `checkpoint store at ${location} is read-only: repair refused`);
    try {
      return { location, log: await this.#life.rebuild(() => integrity.repair()) };
    } catch (error) {
      throw new CheckpointStoreError('CHECKPOINT_CORRUPT', location, `checkpoint store at ${location} is damaged and ${messageOf(error)}: move the directory aside (the pipeline then starts over) or restore it from a backup`, error);
    }
  }
}
