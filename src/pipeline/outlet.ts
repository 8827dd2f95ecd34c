import { fnv1a32 } from '../core/fnv1a.js';
import { StageCallError, messageOf } from '../core/errors.js';
import type { PartitionDef } from './graph.js';
import type { Barrier, BarrierInlet } from '../checkpointing/barrier.js';

/** What an outlet delivers to: a node's mailbox. */
export interface Inlet extends BarrierInlet {
  readonly name: string;
  /** Mailbox room left after queued, in-flight and reserved events (negative when over). */
  free(): number;
  /** Mailbox capacity. */
  readonly capacity: number;
  reserved: number;
  enqueue(values: unknown[], offsets: number[]): void;
  /** Room was freed: producers waiting for it may go on. */
  roomFreed(): void;
}

/** One downstream group reached by an outlet: its replicas, an optional filter and a partitioner. */
export interface Route {
  inlets: Inlet[];
  when: ((event: unknown) => boolean) | undefined;
  partition: PartitionDef;
}

/**
 * The output side of a producer: sends each output to every route whose `when` accepts it, to the
 * replica its partition picks. Also does credit: the least room left among the inlets, and
 * reservations a producer makes for a call in flight so that no other producer takes that room.
 */
export class Outlet {
  /** Every inlet reached, without repeats. */
  inlets: Inlet[] = [];
  /** A call may start once this much room is free downstream (or all it wants): avoids tiny batches. */
  lowWater = Infinity;
  /** Outputs that no route accepted. */
  unrouted = 0;
  private rr = 0;
  private direct: Inlet | undefined;
  /** Room reserved in every inlet by this outlet's calls in flight (reserve minus release). */
  private outstanding = 0;
  /** While set, deliveries wait here (a node it feeds is being reshaped); routed in order on flush. */
  private held: Array<{ values: unknown[]; offsets: number[]; barrier?: Barrier }> | undefined;

  constructor(
    private readonly producer: string,
    private readonly routes: Route[],
    private readonly onRouteError: (error: StageCallError) => void,
  ) {
    this.refresh();
  }

  /** Recomputes what depends on the routes' inlets, after a route gained or lost replicas (`pipeline.scale()`). */
  refresh(): void {
    const before = new Set(this.inlets);
    this.inlets = [...new Set(this.routes.flatMap((r) => r.inlets))];
    // Keep reserve/release balanced per inlet across the change.
    for (const inlet of this.inlets) if (!before.has(inlet)) inlet.reserved += this.outstanding;
    const now = new Set(this.inlets);
    for (const inlet of before) if (!now.has(inlet)) inlet.reserved -= this.outstanding;
    this.lowWater = this.inlets.reduce((low, inlet) => Math.min(low, Math.max(1, inlet.capacity >> 2)), Infinity);
    const only = this.routes.length === 1 ? this.routes[0] : undefined;
    this.direct = only !== undefined && only.when === undefined && only.inlets.length === 1 ? only.inlets[0] : undefined;
  }

  /** Room left downstream: the least over all inlets (Infinity with none). */
  minFree(): number {
    let min = Infinity;
    for (let i = 0; i < this.inlets.length; i++) {
      const free = (this.inlets[i] as Inlet).free();
      if (free < min) min = free;
    }
    return min;
  }

  /** Reserves room for `n` outputs in every inlet. */
  reserve(n: number): void {
    this.outstanding += n;
    for (let i = 0; i < this.inlets.length; i++) (this.inlets[i] as Inlet).reserved += n;
  }

  /** Gives back a reservation made by {@link reserve}; other producers waiting for that room are woken. */
  release(n: number): void {
    if (n === 0) return;
    this.outstanding -= n;
    for (let i = 0; i < this.inlets.length; i++) {
      const inlet = this.inlets[i] as Inlet;
      inlet.reserved -= n;
      inlet.roomFreed();
    }
  }

  /** Delivers outputs; the arrays are handed over and must not be changed afterwards. */
  route(values: unknown[], offsets: number[]): void {
    if (values.length === 0) return;
    if (this.held !== undefined) {
      this.held.push({ values, offsets });
      return;
    }
    if (this.direct !== undefined) {
      this.direct.enqueue(values, offsets);
      return;
    }
    if (this.routes.length === 0) {
      this.unrouted += values.length;
      return;
    }
    const outs = new Map<Inlet, { values: unknown[]; offsets: number[] }>();
    const failures: { events: unknown[]; offsets: number[]; first: unknown } = { events: [], offsets: [], first: undefined };
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      let delivered = false;
      for (const route of this.routes) {
        let inlet: Inlet;
        try {
          if (route.when !== undefined && !route.when(value)) continue;
          inlet = this.pick(route, value);
        } catch (error) {
          if (failures.events.length === 0) failures.first = error;
          failures.events.push(value);
          failures.offsets.push(offsets[i] as number);
          delivered = true;
          continue;
        }
        let out = outs.get(inlet);
        if (out === undefined) outs.set(inlet, (out = { values: [], offsets: [] }));
        out.values.push(value);
        out.offsets.push(offsets[i] as number);
        delivered = true;
      }
      if (!delivered) this.unrouted++;
    }
    for (const [inlet, out] of outs) inlet.enqueue(out.values, out.offsets);
    if (failures.events.length > 0) {
      const message = `routing an output of "${this.producer}" at offset ${failures.offsets[0]} failed: ${messageOf(failures.first)}`;
      this.onRouteError(new StageCallError('ROUTE_FAILED', this.producer, message, failures, failures.first));
    }
  }

  /** The inlets that align several inputs: each releases this producer once it has a barrier from all of them. */
  aligningInlets(): number {
    let aligning = 0;
    for (let i = 0; i < this.inlets.length; i++) if ((this.inlets[i] as Inlet).alignsInputs) aligning++;
    return aligning;
  }

  /**
   * Sends a checkpoint barrier to every inlet (all replicas, whatever the routes' filters), behind
   * what was delivered before. An inlet may align and release its producers before this returns:
   * a producer counts what it waits for ({@link aligningInlets}) before sending.
   */
  broadcastBarrier(barrier: Barrier): void {
    if (this.held !== undefined) {
      // Behind the deliveries held back, in order (a reshape holds outlets while its node drains).
      this.held.push({ values: [], offsets: [], barrier });
      return;
    }
    for (let i = 0; i < this.inlets.length; i++) (this.inlets[i] as Inlet).enqueueBarrier(barrier);
  }

  /** Holds deliveries back from now on (they wait, in order) until `flush()`. */
  hold(): void {
    this.held ??= [];
  }

  /** Routes what was held back, in order, with the routes as they are now; deliveries go through again. */
  flush(): void {
    const held = this.held;
    this.held = undefined;
    if (held === undefined) return;
    for (const batch of held) {
      if (batch.barrier !== undefined) this.broadcastBarrier(batch.barrier);
      else this.route(batch.values, batch.offsets);
    }
  }

  private pick(route: Route, value: unknown): Inlet {
    const { inlets } = route;
    if (inlets.length === 1) return inlets[0] as Inlet;
    if (route.partition.kind === 'roundRobin') return inlets[this.rr++ % inlets.length] as Inlet;
    const key = route.partition.by(value);
    const hash = typeof key === 'number' && Number.isInteger(key) && key >= 0 ? key : fnv1a32(String(key));
    return inlets[hash % inlets.length] as Inlet;
  }
}
