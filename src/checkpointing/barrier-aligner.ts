import type { Barrier } from './barrier.js';

/** Where a producer sends barriers: to every node it feeds, some of which align several inputs. */
export interface BarrierOutlet {
  /** The nodes fed that align several inputs: each releases the producer once it has the barrier from all. */
  aligningInlets(): number;
  broadcastBarrier(barrier: Barrier): void;
}

/**
 * Barrier alignment as one producer (a node or the source pump) sees it: barriers arriving on its
 * inputs, counted per checkpoint until one came from each; and, with alignment, the nodes it fed a
 * barrier that still wait for it on other inputs (its stalls: it starts nothing new meanwhile).
 */
export class BarrierAligner {
  /** Nodes fed a barrier that still wait for it on other inputs. */
  stalls = 0;
  /** Barriers arrived per checkpoint version, until one came from every input. */
  private readonly arrivals = new Map<number, number>();

  constructor(private readonly aligned: boolean) {}

  /** A barrier arrived on one of `inputs` distinct inputs: true once it has come from all of them. */
  arrive(barrier: Barrier, inputs: number): boolean {
    const arrived = (this.arrivals.get(barrier.version) ?? 0) + 1;
    if (arrived < inputs) {
      this.arrivals.set(barrier.version, arrived);
      return false;
    }
    this.arrivals.delete(barrier.version);
    return true;
  }

  /** Sends a barrier on; with alignment, first counts the nodes that will release this producer. */
  forward(outlet: BarrierOutlet, barrier: Barrier): void {
    // Counted before sending: a node downstream may align, and release this one, during the send.
    if (this.aligned) this.stalls += outlet.aligningInlets();
    outlet.broadcastBarrier(barrier);
  }

  /** A node fed a barrier now has it from all its inputs; true when this producer waits for none any more. */
  release(): boolean {
    return this.stalls > 0 && --this.stalls === 0;
  }
}
