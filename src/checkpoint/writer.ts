import { createActor, fromPromise, waitFor, type Actor, type Subscription } from 'xstate';
import {
  checkpointMachine,
  type CheckpointEmitted,
  type CheckpointMachineInput,
  type CheckpointWriteOutput,
  type CheckpointWriteRequest,
} from '../../machines/checkpoint.machine.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CheckpointStoreError, ConfigError, SteadfastError, isSteadfastError, messageOf } from '../core/errors.js';
import { oneOf } from '../core/validate.js';
import type { Logger } from '../logging/logger.js';
import { LossWarnings } from './loss-warnings.js';
import type { CheckpointStore, Snapshot, WriteOptions, WriteReceipt } from './types.js';

/**
 * When snapshot writes reach the disk: `'always'` syncs every one; `'checkpoint'` (default) leaves
 * that to the coordinator, which syncs the completed-checkpoint marker; `'never'` never syncs.
 */
export type CheckpointWriterSync = 'always' | 'checkpoint' | 'never';

/** Settings of a checkpoint writer: one per stage instance. */
export interface CheckpointWriterOptions {
  /** Shared by the pipeline's writers: a writer waits for it to open, never closes it. */
  store: CheckpointStore;
  pipeline: string;
  stage: string;
  sync?: CheckpointWriterSync;
  logger?: Logger;
  clock?: Clock;
}

/** Options of one write; durability comes from the writer's `sync`. */
export type SnapshotWriteOptions = Omit<WriteOptions, 'sync'>;

/** How a write ended: stored, or replaced in the queue by a newer snapshot before its turn. */
export type WriteOutcome = { written: true; receipt: WriteReceipt } | { written: false; supersededBy: number };

/** A writer's lifecycle, flattened from its machine's state (both `draining` substates read as `closing`). */
export type CheckpointWriterState = 'opening' | 'open' | 'writing' | 'closing' | 'closed' | 'failed';

/** What a writer has done so far. */
export interface CheckpointWriterStats {
  written: number;
  superseded: number;
  failed: number;
  /** Stored bytes of every snapshot written. */
  bytes: number;
  /** Version of the last snapshot written. */
  lastVersion: number | undefined;
  /** How long the last write took, in milliseconds. */
  lastMs: number | undefined;
}

/** Writes one stage instance's snapshots in version order through a checkpoint actor. */
export interface CheckpointWriter {
  /** Resolves when the snapshot is stored or superseded; rejects CHECKPOINT_STORE_FAILED, CHECKPOINT_STALE or CHECKPOINT_STORE_CLOSED. */
  write(snapshot: Snapshot, options?: SnapshotWriteOptions): Promise<WriteOutcome>;
  /** Finishes the write in flight and the queued one, then stops the actor. Idempotent. */
  close(): Promise<void>;
  readonly state: CheckpointWriterState;
  readonly stats: Readonly<CheckpointWriterStats>;
  /** The checkpoint actor, for inspection (`getSnapshot`, `subscribe`, `on`); send writes through `write`. */
  readonly actor: Actor<typeof checkpointMachine>;
}

interface Pending {
  resolve(outcome: WriteOutcome): void;
  reject(error: Error): void;
}

const SYNC: readonly CheckpointWriterSync[] = ['always', 'checkpoint', 'never'];

/**
 * A checkpoint writer for one stage instance: one write in flight, a newer snapshot supersedes a
 * queued older one, stale versions are refused.
 *
 * @example
 * const writer = createCheckpointWriter({ store, pipeline: 'orders', stage: 'enrich' });
 * const outcome = await writer.write(snapshot); // { written: true, receipt } or { written: false, supersededBy }
 * await writer.close();
 */
export function createCheckpointWriter(options: CheckpointWriterOptions): CheckpointWriter {
  return new Writer(options);
}

class Writer implements CheckpointWriter {
  readonly actor: Actor<typeof checkpointMachine>;
  private readonly store: CheckpointStore;
  private readonly pipeline: string;
  private readonly stage: string;
  private readonly logger: Logger | undefined;
  private readonly listener: Subscription;
  /** Accepted writes by version (versions of accepted writes only ever grow, so they never collide). */
  private readonly pending = new Map<number, Pending>();
  /** The write being sent: the machine refuses it, if it does, during `send`. */
  private sending: Pending | undefined;
  private openError: { error: unknown } | undefined;
  private closing: Promise<void> | undefined;
  private readonly counts: CheckpointWriterStats = { written: 0, superseded: 0, failed: 0, bytes: 0, lastVersion: undefined, lastMs: undefined };

  constructor(options: CheckpointWriterOptions) {
    this.store = options.store;
    this.pipeline = nonEmpty('pipeline', options.pipeline);
    this.stage = nonEmpty('stage', options.stage);
    const sync = oneOf('sync', options.sync ?? 'checkpoint', SYNC) === 'always';
    const clock = options.clock ?? systemClock;
    const store = this.store;
    this.logger = options.logger?.child({ pipeline: this.pipeline, stage: this.stage });
    const losses = new LossWarnings(this.logger, (stage) => `the state of stage "${stage}"`);
    const machine = checkpointMachine.provide({
      actors: {
        open: fromPromise<void, CheckpointMachineInput>(() => store.open()),
        write: fromPromise<CheckpointWriteOutput, CheckpointWriteRequest>(async ({ input }) => {
          const started = clock.monotonic();
          // The machine passes back what `write()` sent it: a Snapshot and its SnapshotWriteOptions.
          const receipt = await store.writeSnapshot(input.snapshot as Snapshot, { ...(input.options as SnapshotWriteOptions | undefined), sync });
          losses.note(this.stage, receipt.losses, { version: (input.snapshot as Snapshot).version });
          return { key: receipt.key, bytes: receipt.bytes, checksum: receipt.checksum, ms: clock.monotonic() - started };
        }),
      },
    });
    this.actor = createActor(machine, { input: { pipeline: this.pipeline, stage: this.stage } });
    this.listener = this.actor.on('*', (event) => this.settle(event));
    this.actor.start();
  }

  get state(): CheckpointWriterState {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.matches('opening')) return snapshot.matches({ opening: 'draining' }) ? 'closing' : 'opening';
    if (snapshot.matches('writing')) return snapshot.matches({ writing: 'draining' }) ? 'closing' : 'writing';
    if (snapshot.matches('open')) return 'open';
    if (snapshot.matches('closed')) return 'closed';
    if (snapshot.matches('failed')) return 'failed';
    return 'closing';
  }

  get stats(): Readonly<CheckpointWriterStats> {
    return { ...this.counts };
  }

  write(snapshot: Snapshot, options?: SnapshotWriteOptions): Promise<WriteOutcome> {
    if (this.closing !== undefined) {
      return Promise.reject(new CheckpointStoreError('CHECKPOINT_STORE_CLOSED', this.store.location, `checkpoint writer of ${this.name} is closed: version ${snapshot.version} not written`));
    }
    if (this.openError !== undefined) return Promise.reject(this.failure(snapshot.version, this.openError.error));
    const invalid = this.check(snapshot);
    if (invalid !== undefined) return Promise.reject(invalid);
    return new Promise<WriteOutcome>((resolve, reject) => {
      const entry: Pending = { resolve, reject };
      this.sending = entry;
      this.actor.send({ type: 'steadfast.checkpoint.write', snapshot, options });
      // Not refused while it was being sent: accepted, in flight or queued.
      if (this.sending === entry) this.pending.set(snapshot.version, entry);
      this.sending = undefined;
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private get name(): string {
    return `"${this.pipeline}/${this.stage}"`;
  }

  private async shutdown(): Promise<void> {
    try {
      if (this.actor.getSnapshot().status === 'active') {
        this.actor.send({ type: 'steadfast.checkpoint.close' });
        await waitFor(this.actor, (snapshot) => snapshot.status !== 'active');
      }
    } finally {
      this.actor.stop();
      this.listener.unsubscribe();
      // Only if the machine broke its promise to settle every write: never leave a caller hanging.
      for (const [version, entry] of this.pending) {
        entry.reject(new CheckpointStoreError('CHECKPOINT_STORE_CLOSED', this.store.location, `checkpoint writer of ${this.name} stopped before version ${version} settled`));
      }
      this.pending.clear();
    }
  }

  private check(snapshot: Snapshot): ConfigError | undefined {
    if (snapshot.pipeline !== this.pipeline) return new ConfigError('snapshot.pipeline', snapshot.pipeline, `must be "${this.pipeline}" (this writer's pipeline)`);
    if (snapshot.stage !== this.stage) return new ConfigError('snapshot.stage', snapshot.stage, `must be "${this.stage}" (this writer's stage)`);
    if (!Number.isSafeInteger(snapshot.version) || snapshot.version < 0) return new ConfigError('snapshot.version', snapshot.version, 'must be a safe integer >= 0');
    return undefined;
  }

  /** A failed write: CHECKPOINT_ENCODE_FAILED when the state could not be encoded (retrying cannot help), else CHECKPOINT_STORE_FAILED. */
  private failure(version: number, cause: unknown): CheckpointStoreError {
    const code = isSteadfastError(cause, 'CHECKPOINT_ENCODE_FAILED') ? 'CHECKPOINT_ENCODE_FAILED' : 'CHECKPOINT_STORE_FAILED';
    return new CheckpointStoreError(code, this.store.location, `checkpoint write of ${this.name} version ${version} failed: ${messageOf(cause)}`, cause);
  }

  /** Every WRITE the machine accepted ends in exactly one of these events: settle its promise. */
  private settle(event: CheckpointEmitted): void {
    switch (event.type) {
      case 'steadfast.checkpoint.written': {
        const { key, bytes, checksum, version, ms } = event;
        Object.assign(this.counts, { written: this.counts.written + 1, bytes: this.counts.bytes + bytes, lastVersion: version, lastMs: ms });
        this.logger?.debug({ version, key, bytes, ms }, 'checkpoint written');
        this.take(version)?.resolve({ written: true, receipt: { key, bytes, checksum } });
        return;
      }
      case 'steadfast.checkpoint.superseded':
        this.counts.superseded++;
        this.logger?.debug({ version: event.version, by: event.by }, 'checkpoint superseded');
        this.take(event.version)?.resolve({ written: false, supersededBy: event.by });
        return;
      case 'steadfast.checkpoint.write_failed':
        this.counts.failed++;
        this.logger?.warn({ version: event.version, err: event.error }, 'checkpoint write failed');
        this.take(event.version)?.reject(this.failure(event.version, event.error));
        return;
      case 'steadfast.checkpoint.rejected': {
        const entry = this.sending;
        this.sending = undefined;
        const error =
          event.reason === 'stale'
            ? new SteadfastError('CHECKPOINT_STALE', `checkpoint of ${this.name} version ${event.version} is stale: version ${event.latest} is already written or pending`)
            : new CheckpointStoreError('CHECKPOINT_STORE_CLOSED', this.store.location, `checkpoint writer of ${this.name} is closing: version ${event.version} not written`);
        entry?.reject(error);
        return;
      }
      case 'steadfast.checkpoint.open_failed':
        this.openError = { error: event.error };
        this.logger?.error({ err: event.error }, 'checkpoint store did not open');
        return;
    }
  }

  private take(version: number): Pending | undefined {
    const entry = this.pending.get(version);
    this.pending.delete(version);
    return entry;
  }
}

function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, value, 'must be a non-empty string');
  return value;
}
