// Checkpoint barriers: markers the source puts into the stream and every node passes on, so that
// each node snapshots the state built by exactly the events before the barrier (as in Flink).

/** A checkpoint barrier: every node that reaches it snapshots, then forwards it downstream. */
export interface Barrier {
  /** The checkpoint's sequence number in this pipeline. */
  readonly version: number;
  readonly checkpointId: string;
  /** The last source offset before the barrier (-1: none yet); set by the source pump when it injects it. */
  offset: number;
}

/** What a node needs from the pipeline's checkpoint coordinator. */
export interface BarrierHooks {
  /**
   * `exactly-once`: a node that fed a barrier to a node with several inputs sends nothing more until
   * that node has the barrier from all of them (alignment). `at-least-once`: no waiting.
   */
  readonly aligned: boolean;
  /** Events a stage keeps for replay after its last snapshot; past that it restarts from its last state. */
  readonly replayLimit: number;
  /** A node reached a barrier on all its inputs; `state` is its snapshot (undefined for a sink). */
  reached(node: { name: string; kind: 'stage' | 'sink' }, barrier: Barrier, state: unknown): void;
}

/** Something a barrier travels to: a node's mailbox. */
export interface BarrierInlet {
  /** Queues the barrier behind the events already queued. */
  enqueueBarrier(barrier: Barrier): void;
  /** Has more than one distinct producer: waits for the barrier from each. */
  readonly alignsInputs: boolean;
}

/** The number of distinct producers in a list that may repeat one (two inputs from one node). */
export function distinctCount<T>(items: readonly T[]): number {
  if (items.length < 2) return items.length;
  return new Set(items).size;
}

/** Where the pump gets checkpoint barriers from (the pipeline's checkpoint coordinator). */
export interface PumpBarriers {
  /** The barrier to inject now, if a checkpoint is due (between two batches). */
  due(): Barrier | undefined;
  /** The last barrier, as the source ends or stops (not after a failure). */
  final(): Barrier | undefined;
  /** With alignment: wait until the nodes fed a barrier have it on all their inputs. */
  readonly aligned: boolean;
}
