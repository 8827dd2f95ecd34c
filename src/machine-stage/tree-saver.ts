import type { AnyActorRef } from 'xstate';
import type { Clock } from '../core/clock.js';
import type { CheckpointWriter } from '../checkpoint/writer.js';
import { persistActorTree } from './persist-actor-tree.js';

/** Where a {@link TreeSaver} writes: the writer, the snapshot's names and the first version to use. */
export interface TreeSaverOptions {
  writer: CheckpointWriter;
  pipeline: string;
  stage: string;
  /** The version of the first write (the stored newest + 1). */
  version: number;
  /** Versions kept: older ones are pruned in the write's batch. */
  keep: number;
  clock: Pick<Clock, 'now'>;
  /** A persist or write failed: the saver stops saving. */
  onError(error: unknown): void;
}

/**
 * Saves an actor tree after its changes: changes in one synchronous step make one save, at most
 * one write is in flight, and the tree is persisted when its write can start, so the newest state
 * always wins and no intermediate one is persisted for nothing.
 */
export class TreeSaver {
  private dirty = false;
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private failed = false;
  private version: number;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly actor: AnyActorRef,
    private readonly options: TreeSaverOptions,
  ) {
    this.version = options.version;
  }

  /** Something in the tree changed: save it once the current step and the write in flight are done. */
  changed(): void {
    if (this.failed) return;
    this.dirty = true;
    if (this.scheduled || this.inFlight !== undefined) return;
    this.scheduled = true;
    // After the step that changed it: a save in the middle of a macrostep would see half of it.
    queueMicrotask(() => {
      this.scheduled = false;
      this.next();
    });
  }

  /** Persists the tree as it is now and resolves when it (and the write before it) is stored. */
  async saveNow(): Promise<void> {
    this.dirty = true;
    await this.settled();
  }

  /** Resolves when nothing is dirty or in flight. */
  settled(): Promise<void> {
    if (this.inFlight === undefined && (!this.dirty || this.failed)) return Promise.resolve();
    if (this.inFlight === undefined && !this.scheduled) this.next();
    return new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Stops saving: later changes are ignored (the write in flight still finishes). */
  halt(): void {
    this.failed = true;
    this.dirty = false;
  }

  private next(): void {
    if (this.inFlight !== undefined) return;
    if (!this.dirty || this.failed || this.actor.getSnapshot().status === 'error' || this.actor.getSnapshot().status === 'stopped') {
      this.dirty = false;
      this.notifyIdle();
      return;
    }
    this.dirty = false;
    const { writer, pipeline, stage, keep, clock } = this.options;
    const version = this.version++;
    let write: Promise<unknown>;
    try {
      const state = persistActorTree(this.actor);
      write = writer.write({ pipeline, stage, version, offset: -1, checkpointId: `${stage}@${version}`, createdAt: clock.now(), state }, { pruneBelow: Math.max(0, version - keep + 1) });
    } catch (error) {
      write = Promise.reject(error);
    }
    this.inFlight = write.then(
      () => {
        this.inFlight = undefined;
        this.next();
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.halt();
        this.notifyIdle();
        this.options.onError(error);
      },
    );
  }

  private notifyIdle(): void {
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}
