// The checkpoints a coordinator has begun and not settled yet: where each barrier still has to go,
// whose part is still to come, and who waits for it.
import type { CompletedCheckpoint } from '../checkpoint/types.js';
import { SteadfastError, messageOf } from '../core/errors.js';
import type { Barrier } from './barrier.js';

/** Someone waiting for a checkpoint: settled with the completed checkpoint, or with why it failed. */
export interface CheckpointWaiter {
  resolve: (done: CompletedCheckpoint) => void;
  reject: (error: unknown) => void;
}

/** A checkpoint begun (its barrier injected) and not settled yet. */
export interface InFlightCheckpoint {
  barrier: Barrier;
  /** Nodes the barrier has not reached yet: no new barrier starts before it has reached them all. */
  unreached: Set<string>;
  /** Nodes whose part (snapshot written, outputs flushed) is not done yet. */
  waiting: Set<string>;
  stages: string[];
  startedAt: number;
  bytes: number;
  settled: boolean;
  /** A writer replaced one of its snapshots by a newer one: only a newer checkpoint can settle it. */
  superseded: boolean;
  resolvers: CheckpointWaiter[];
}

/** The checkpoints in flight, by version. */
export class InFlight extends Map<number, InFlightCheckpoint> {
  /** Begins one: the barrier goes to every node of `nodes`; `resolvers` wait for it. */
  begin(barrier: Barrier, nodes: ReadonlyArray<{ name: string; kind: 'stage' | 'sink' }>, startedAt: number, resolvers: CheckpointWaiter[]): InFlightCheckpoint {
    const checkpoint: InFlightCheckpoint = {
      barrier,
      unreached: new Set(nodes.map((n) => n.name)),
      waiting: new Set(nodes.map((n) => n.name)),
      stages: nodes.filter((n) => n.kind === 'stage').map((n) => n.name),
      startedAt,
      bytes: 0,
      settled: false,
      superseded: false,
      resolvers,
    };
    this.set(barrier.version, checkpoint);
    return checkpoint;
  }

  /**
   * A barrier is still on its way through the graph. The next one waits for it (one barrier at a
   * time keeps alignment simple); the writes and the completed marker of a checkpoint may still
   * be going on while the next barrier travels.
   */
  travelling(): boolean {
    for (const checkpoint of this.values()) if (checkpoint.unreached.size > 0) return true;
    return false;
  }

  /** Marks a checkpoint settled (completed, failed or abandoned) and forgets it. */
  settle(checkpoint: InFlightCheckpoint): void {
    checkpoint.settled = true;
    this.delete(checkpoint.barrier.version);
  }

  /** Settles and returns the checkpoints still open below `version` (a newer one completed: it covers them). */
  settleOlder(version: number): InFlightCheckpoint[] {
    const older: InFlightCheckpoint[] = [];
    for (const [v, checkpoint] of this) {
      if (v >= version || checkpoint.settled) continue;
      this.settle(checkpoint);
      older.push(checkpoint);
    }
    return older;
  }

  /** The newest version in flight, or null when none is. */
  newest(): number | null {
    let newest: number | null = null;
    for (const version of this.keys()) if (newest === null || version > newest) newest = version;
    return newest;
  }
}

/** The completed-checkpoint marker of `checkpoint` (of pipeline `pipeline`), made at `createdAt`. */
export function completedOf(checkpoint: InFlightCheckpoint, pipeline: string, createdAt: number): CompletedCheckpoint {
  const { barrier } = checkpoint;
  return { pipeline, checkpointId: barrier.checkpointId, version: barrier.version, offset: barrier.offset, createdAt, stages: checkpoint.stages };
}

/** Why checkpoint `version` failed, as a SteadfastError (CHECKPOINT_STORE_FAILED for anything else thrown). */
export function checkpointFailure(version: number, error: unknown): SteadfastError {
  return error instanceof SteadfastError ? error : new SteadfastError('CHECKPOINT_STORE_FAILED', `checkpoint ${version} failed: ${messageOf(error)}`, { cause: error });
}
