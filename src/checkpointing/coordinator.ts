import { SteadfastError } from '../core/errors.js';
import { newId } from '../ids.js';
import type { ResolvedCheckpointOptions } from '../checkpoint/options.js';
import { openAndFindRestorePoint } from '../checkpoint/restore.js';
import { claimStore } from '../checkpoint/store-claims.js';
import type { CheckpointStore, CompletedCheckpoint } from '../checkpoint/types.js';
import type { Barrier, BarrierHooks, PumpBarriers } from './barrier.js';
import { InFlight, checkpointFailure, completedOf, type InFlightCheckpoint } from './checkpoint-in-flight.js';
import { CheckpointTriggers } from './checkpoint-triggers.js';
import { CheckpointCounts, type CheckpointStats, type StageCheckpointInfo } from './checkpoint-stats.js';
import type { CheckpointedNode, CoordinatorEnv } from './coordinator-env.js';
import type { CoordinatorLife, FinalCheckpoint } from './coordinator-life.js';
import { KeptVersions } from './kept-versions.js';
import { reportNoCheckpoint, reportRestored, restoreNodes } from './restore-nodes.js';
import { StageWriters } from './stage-writers.js';
import type { StoredStageState } from './stored-stage-state.js';

export type { CheckpointStats, StageCheckpointInfo } from './checkpoint-stats.js';
export type { CheckpointedNode, CoordinatorEnv } from './coordinator-env.js';
export type { StoredStageState } from './stored-stage-state.js';

/**
 * Takes consistent checkpoints: decides when a barrier is due (every N events, every T ms, on
 * demand), collects each node's snapshot as the barrier reaches it, writes them through one
 * checkpoint writer (actor) per stage instance, and marks the checkpoint complete, committing the
 * source offset, once every node has it. Restores the newest complete checkpoint at start.
 */
export class CheckpointCoordinator implements BarrierHooks, PumpBarriers {
  readonly aligned: boolean;
  readonly replayLimit: number;
  readonly store: CheckpointStore;
  private readonly writers: StageWriters;
  private readonly pending = new InFlight();
  /** Completed versions, oldest first, to prune beyond `keep`. */
  private readonly completedVersions: KeptVersions;
  private readonly stageInfo = new Map<string, StageCheckpointInfo>();
  private version = 0;
  /** Events, the timer and requests: when the next checkpoint is due. */
  private readonly triggers: CheckpointTriggers;
  /** Open, finishing (the final checkpoint begun), closed or closing, with the final checkpoint and the closing. */
  private life: CoordinatorLife = { phase: 'open' };
  /** Gives back this pipeline's claim on the store, claimed by `restore()` (before it: none to give back). */
  private release: () => boolean = () => false;
  /** While held (a reshape runs), no new checkpoint starts. */
  private holds = 0;
  private readonly counts = new CheckpointCounts();

  constructor(
    private readonly options: ResolvedCheckpointOptions,
    store: CheckpointStore,
    private readonly env: CoordinatorEnv,
  ) {
    this.store = store;
    this.aligned = options.delivery === 'exactly-once';
    this.replayLimit = options.replayLimit;
    this.writers = new StageWriters({ store, pipeline: env.pipeline, sync: options.sync, log: env.log, clock: env.clock });
    this.completedVersions = new KeptVersions(options.keep);
    this.triggers = new CheckpointTriggers(options, env, () => this.closed);
  }

  /**
   * Opens the store and puts every node back at the newest complete checkpoint whose snapshots all
   * verify; resolves with the committed source offset (-1 without one).
   */
  async restore(): Promise<number> {
    this.release = claimStore(this.store, this.env.pipeline);
    const nodes = this.env.nodes();
    const stages = nodes.filter((n) => n.kind === 'stage').map((n) => n.name);
    const found = await openAndFindRestorePoint(this.store, this.env.pipeline, stages, { repairOnCorruption: this.options.repairOnCorruption });
    for (const bad of found.corrupt) this.reportCorrupt(bad);
    this.version = found.maxVersion;
    if (found.point === undefined) {
      reportNoCheckpoint(found, this.env);
      return -1;
    }
    const { done, states } = found.point;
    restoreNodes(done, states, nodes, this.env.log);
    this.completedVersions.push(done.version);
    this.counts.restored(done);
    reportRestored(done, this.env);
    return done.offset;
  }

  /** The version of the newest checkpoint begun (or restored): a barrier begun later has a higher one. */
  get latestVersion(): number {
    return this.version;
  }

  /** A stored value that failed its checksum or decoding: counted, logged with its key, observed. */
  reportCorrupt(bad: { key: string; reason: string; stage?: string }): void {
    this.counts.corrupt();
    this.env.log.error({ key: bad.key, reason: bad.reason }, `corrupt checkpoint entry skipped: ${bad.key}: ${bad.reason}`);
    this.env.emit({ type: 'steadfast.checkpoint.corrupt', stage: bad.stage ?? '', key: bad.key, reason: bad.reason });
  }

  /** Starts the timer of `everyMs` (it never keeps the process alive). */
  start(): void {
    this.triggers.countFromNow();
    this.openWriters();
    this.triggers.startTimer();
  }

  /** Asks for a checkpoint now; resolves once it is complete. */
  request(): Promise<CompletedCheckpoint> {
    if (this.life.phase !== 'open') {
      return Promise.reject(new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.env.pipeline}" is finishing; no more checkpoints`));
    }
    return new Promise((resolve, reject) => this.triggers.request({ resolve, reject }));
  }

  // PumpBarriers: asked by the source pump between batches.

  due(): Barrier | undefined {
    // At most two at once: one completing while the next travels. A third would make the writers
    // coalesce snapshots, and a checkpoint whose snapshot one writer skipped can never complete.
    const blocked = this.closed || this.holds > 0 || this.pending.size >= 2 || this.pending.travelling();
    return this.triggers.due(blocked) ? this.begin() : undefined;
  }

  final(): Barrier | undefined {
    if (this.life.phase !== 'open') return undefined;
    const barrier = this.begin();
    this.life = { phase: 'finishing', final: { version: barrier.version, failure: undefined } };
    return barrier;
  }

  /** Why the final checkpoint failed, once it has (undefined while it runs, after it completed, or when none was taken). */
  get finalError(): SteadfastError | undefined {
    return this.finalCheckpoint?.failure;
  }

  /** The final checkpoint, once begun. */
  private get finalCheckpoint(): FinalCheckpoint | undefined {
    return this.life.phase === 'open' ? undefined : this.life.final;
  }

  /** No checkpoint starts any more (abandoned, or closing). */
  private get closed(): boolean {
    return this.life.phase === 'closed' || this.life.phase === 'closing';
  }

  private begin(): Barrier {
    const waiters = this.triggers.begun();
    const version = ++this.version;
    const barrier: Barrier = { version, checkpointId: `${String(version).padStart(16, '0')}-${newId()}`, offset: -1 };
    this.pending.begin(barrier, this.env.nodes(), this.env.clock.monotonic(), waiters);
    this.counts.inFlight(version);
    return barrier;
  }

  // BarrierHooks: a node reached a barrier on all its inputs.

  reached(node: { name: string; kind: 'stage' | 'sink' }, barrier: Barrier, state: unknown): void {
    const pending = this.pending.get(barrier.version);
    if (pending === undefined || pending.settled) return;
    pending.unreached.delete(node.name);
    if (pending.unreached.size === 0) this.env.nudge();
    if (node.kind === 'sink') {
      // Every output before the barrier has been written: the sink's part is done.
      this.arrived(pending, node.name);
      return;
    }
    const guards = (node as Partial<CheckpointedNode>).guards?.();
    const stored: StoredStageState = guards === undefined ? { value: state } : { value: state, guards: guards.save() };
    const createdAt = this.env.clock.now();
    const snapshot = { pipeline: this.env.pipeline, stage: node.name, version: barrier.version, offset: barrier.offset, checkpointId: barrier.checkpointId, createdAt, state: stored };
    const started = this.env.clock.monotonic();
    const floor = this.completedVersions.floor();
    this.writers
      .of(node.name)
      .write(snapshot, floor > 0 ? { pruneBelow: floor } : {})
      .then((outcome) => {
        // Replaced in the writer's queue by a newer snapshot: this checkpoint will not complete,
        // the newer one covers it (and settles whoever waits for this one, or fails it with itself).
        if (!outcome.written) {
          pending.superseded = true;
          return;
        }
        const bytes = outcome.receipt.bytes;
        pending.bytes += bytes;
        this.stageInfo.set(node.name, { version: barrier.version, at: createdAt, bytes });
        this.env.emit({ type: 'steadfast.checkpoint.stage_written', stage: node.name, version: barrier.version, bytes, ms: this.env.clock.monotonic() - started });
        this.arrived(pending, node.name);
      })
      .catch((error: unknown) => this.fail(pending, error));
  }

  /**
   * A writer for every stage instance, made before its first barrier: made while a stage actor
   * runs an action, a new actor would be created inside that action.
   */
  private openWriters(): void {
    if (this.closed) return;
    for (const node of this.env.nodes()) if (node.kind === 'stage') this.writers.of(node.name);
  }

  private arrived(pending: InFlightCheckpoint, node: string): void {
    if (pending.settled) return;
    pending.waiting.delete(node);
    if (pending.waiting.size === 0) void this.complete(pending).finally(() => this.env.nudge());
  }

  private async complete(pending: InFlightCheckpoint): Promise<void> {
    const { barrier } = pending;
    const done = completedOf(pending, this.env.pipeline, this.env.clock.now());
    this.completedVersions.push(barrier.version);
    const floor = this.completedVersions.floor();
    try {
      await this.store.completeCheckpoint(done, { sync: this.options.sync !== 'never', ...(floor > 0 ? { pruneBelow: floor } : {}) });
    } catch (error) {
      this.completedVersions.pop();
      this.fail(pending, error);
      return;
    }
    this.pending.settle(pending);
    const ms = this.env.clock.monotonic() - pending.startedAt;
    this.counts.completed(done, ms, pending.bytes);
    this.env.log.debug({ version: done.version, offset: done.offset, ms, bytes: pending.bytes }, 'checkpoint complete');
    this.env.emit({ type: 'steadfast.checkpoint.completed', version: done.version, checkpointId: done.checkpointId, offset: done.offset, ms, bytes: pending.bytes });
    for (const r of pending.resolvers) r.resolve(done);
    // An older checkpoint still open (its snapshot replaced by a newer one) can no longer complete:
    // this one covers everything it would have, so whoever waits for it gets this one.
    for (const older of this.pending.settleOlder(barrier.version)) for (const r of older.resolvers) r.resolve(done);
    this.counts.inFlight(this.pending.newest());
  }

  /**
   * A checkpoint failed: reported and counted, its waiters rejected; the next barrier tries again.
   * Older checkpoints that a writer superseded by this one's snapshot can no longer complete: they
   * fail with it (else `settled()`, and so `done`, would wait for them for ever).
   */
  private fail(pending: InFlightCheckpoint, error: unknown): void {
    if (pending.settled) return;
    const { version } = pending.barrier;
    this.pending.settle(pending);
    this.counts.inFlight(this.pending.newest());
    this.counts.failed();
    const failure = checkpointFailure(version, error);
    const final = this.finalCheckpoint;
    if (final !== undefined && version === final.version) final.failure = failure;
    this.env.log.error({ err: failure, version }, `checkpoint ${version} failed: ${failure.message}`);
    this.env.emit({ type: 'steadfast.checkpoint.failed', version, error: failure });
    for (const r of pending.resolvers) r.reject(failure);
    for (const [older, open] of [...this.pending]) if (older < version && open.superseded) this.fail(open, failure);
  }

  private abandon(pending: InFlightCheckpoint, why: string): void {
    if (pending.settled) return;
    this.pending.settle(pending);
    this.counts.inFlight(this.pending.newest());
    const error = new SteadfastError('PIPELINE_STOPPED', `checkpoint ${pending.barrier.version} did not complete: ${why}`);
    for (const r of pending.resolvers) r.reject(error);
  }

  /**
   * Runs `work` (a reshape: scale, swap) with no checkpoint in flight: waits for the one in flight,
   * starts none meanwhile, and lets due ones start again afterwards.
   */
  async without<T>(work: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      await this.settled();
      return await work();
    } finally {
      this.holds--;
      this.openWriters(); // replicas added by a scale
      this.env.nudge();
    }
  }

  /** Settles once the checkpoint in flight (the final one, at the end) completed or failed. */
  async settled(): Promise<void> {
    const open = [...this.pending.values()];
    await Promise.all(open.map((p) => new Promise<void>((resolve) => p.resolvers.push({ resolve: () => resolve(), reject: () => resolve() }))));
  }

  /** Stops taking checkpoints: what is in flight is abandoned (its waiters rejected), none starts again. */
  abandonAll(why: string): void {
    if (!this.closed) this.life = { phase: 'closed', final: this.finalCheckpoint };
    this.triggers.stopTimer();
    for (const pending of [...this.pending.values()]) this.abandon(pending, why);
    this.triggers.dropRequests(() => new SteadfastError('PIPELINE_STOPPED', `pipeline "${this.env.pipeline}" stopped before the checkpoint`));
  }

  /** Stops taking checkpoints; what is in flight is abandoned; writers and the store are closed. */
  async close(): Promise<void> {
    if (this.life.phase === 'closing') return this.life.closed;
    this.abandonAll('the pipeline stopped');
    const closed = (async () => {
      await this.writers.close();
      // A store shared by pipelines of other names closes with the last of them. A memory store
      // holds nothing to release and loses its data when closed: it stays open, readable after the
      // run and usable by the next one.
      if (this.release() && this.store.kind !== 'memory') await this.store.close();
    })();
    this.life = { phase: 'closing', final: this.finalCheckpoint, closed };
    return closed;
  }

  stats(): CheckpointStats {
    return this.counts.stats();
  }

  /** The last snapshot each stage instance wrote in this run. */
  stageCheckpoint(stage: string): StageCheckpointInfo | null {
    return this.stageInfo.get(stage) ?? null;
  }
}
