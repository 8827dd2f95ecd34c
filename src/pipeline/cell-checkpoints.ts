import type { Logger } from 'pino';
import { distinctCount, type BarrierHooks } from '../checkpointing/barrier.js';
import { BarrierAligner } from '../checkpointing/barrier-aligner.js';
import type { Mailbox } from './mailbox.js';
import type { Outlet } from './outlet.js';
import type { Producer } from './producer.js';
import { ReplayLog } from './replay-log.js';

/** What a node's checkpoint side works with. */
export interface CellCheckpointsEnv {
  readonly node: { readonly name: string; readonly kind: 'stage' | 'sink' };
  readonly mailbox: Mailbox;
  readonly producers: readonly Producer[];
  outlet(): Outlet;
  readonly hooks: BarrierHooks;
  readonly log: Logger;
  /** The mailbox changed (a barrier left, a stall ended): the machine hears of it. */
  mailboxChanged(): void;
}

/**
 * A node under checkpoints: barriers passed (aligned across its inputs, snapshotted, forwarded),
 * and for a stage its restart point (the state at the last barrier and the events since, replayed
 * after an in-process restart).
 */
export class CellCheckpoints {
  /** The restart point (stages only). */
  readonly replayLog: ReplayLog | undefined;
  private readonly aligner: BarrierAligner;

  constructor(private readonly env: CellCheckpointsEnv) {
    this.replayLog = env.node.kind === 'stage' ? new ReplayLog(env.hooks.replayLimit, env.log) : undefined;
    this.aligner = new BarrierAligner(env.hooks.aligned);
  }

  /** Nodes this one fed a barrier that still align it on their other inputs. */
  get stalls(): number {
    return this.aligner.stalls;
  }

  /**
   * The machine passed a barrier at the head of the mailbox (no call in flight), with the state
   * every earlier event built. Once it came from every input, the node snapshots and passes it on;
   * with alignment it then waits until the nodes it fed have it from all their inputs too.
   */
  passBarrier(state: unknown): void {
    const { env } = this;
    const barrier = env.mailbox.shiftBarrier();
    if (barrier !== undefined) {
      const inputs = distinctCount(env.producers);
      if (this.aligner.arrive(barrier, inputs)) {
        // A copy now: the write happens later, and the stage may update its state in place meanwhile.
        const snapshot = this.replayLog?.copy(state);
        this.replayLog?.restartPoint(snapshot, true);
        env.hooks.reached(env.node, barrier, snapshot);
        if (env.hooks.aligned && inputs > 1) for (const producer of new Set(env.producers)) producer.barrierReleased();
        this.aligner.forward(env.outlet(), barrier);
      }
    }
    // The machine set its view aside: tell it how the mailbox looks now.
    env.mailboxChanged();
  }

  /** A node this one fed a barrier now has it from all its inputs. */
  barrierReleased(): void {
    if (this.aligner.release()) this.env.mailboxChanged();
  }

  /**
   * Before a restart: the events processed since the restart point go back to the front of the
   * mailbox to be replayed; returns the state to start from (undefined: `initialState()`).
   */
  prepareRestart(lastState: unknown): { state: unknown } | undefined {
    if (this.replayLog === undefined) return undefined;
    const plan = this.replayLog.prepare(lastState);
    for (let i = plan.replay.length - 1; i >= 0; i--) {
      const { values, offsets } = plan.replay[i] as { values: unknown[]; offsets: number[] };
      this.env.mailbox.requeue(values, offsets, true);
    }
    return plan.startFrom;
  }
}
