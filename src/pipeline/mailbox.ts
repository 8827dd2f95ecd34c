import { BatchQueue, type Batch } from '../core/batch-queue.js';
import type { Clock } from '../core/clock.js';
import type { Barrier } from '../checkpointing/barrier.js';
import type { FlowCounter } from './producer.js';

/**
 * The bounded mailbox of one node instance: events queued (with the barriers between them), the
 * events its calls hold, the room producers reserved, and its gate. Replays after a restart sit at
 * its front and are counted apart: they were in the mailbox once already.
 */
export class Mailbox {
  readonly queue = new BatchQueue();
  /** Room producers reserved for their calls in flight (an `Inlet`'s reservation). */
  reserved = 0;
  /** Events taken by calls in flight. */
  inCalls = 0;
  /** Events at the front that are replays after a restart (queued, or in a replay call). */
  replaying = 0;
  peakDepth = 0;
  /** While gated, the mailbox takes nothing new: producers wait (a scale drains the group first). */
  gated = false;
  /** No new call starts while paused (a swap waits for the calls in flight to end). */
  paused = false;
  /** Monotonic ms since which events have waited with no call ending (meaningful while depth() > 0). */
  private waitingSince = 0;
  /** Injections (replayed dead letters) waiting for room. */
  private readonly roomWaiters: Array<() => void> = [];

  constructor(
    readonly capacity: number,
    private readonly clock: Clock,
    private readonly flow: FlowCounter,
  ) {}

  /** Events queued or in a call. */
  depth(): number {
    return this.queue.length + this.inCalls;
  }

  /** Room left after queued, in-flight and reserved events (0 while gated; negative when over). */
  free(): number {
    if (this.gated) return 0;
    return this.capacity - this.queue.length - this.inCalls - this.reserved;
  }

  /** Fewer events than its capacity, replays aside (room producers reserved does not count). */
  hasRoom(): boolean {
    return !this.gated && this.depth() - this.replaying < this.capacity;
  }

  /** Queues arrivals behind what is queued. */
  push(values: unknown[], offsets: number[]): void {
    if (this.depth() === 0) this.waitingSince = this.clock.monotonic();
    this.queue.push(values, offsets);
    this.count(values.length);
    const depth = this.queue.length - this.replaying;
    if (depth > this.peakDepth) this.peakDepth = depth;
  }

  /** Queues a barrier behind what is queued. */
  pushBarrier(barrier: Barrier): void {
    this.queue.pushMark(barrier);
  }

  /** Puts events back at the front (an abandoned call's, a failed call's rest, replays). */
  requeue(values: unknown[], offsets: number[], replays = false): void {
    this.queue.unshift(values, offsets);
    this.count(values.length);
    if (replays) this.replaying += values.length;
  }

  /** Takes up to `n` events for a call (never past a barrier). */
  take(n: number): Batch {
    const batch = this.queue.take(n);
    this.inCalls += batch.values.length;
    return batch;
  }

  /** A call holding `n` events ended: they leave the mailbox (and the buffered count); what waits has waited since now. */
  callEnded(n: number, replay: boolean): void {
    this.inCalls -= n;
    this.count(-n);
    if (replay) this.replaying -= n;
    this.waitingSince = this.clock.monotonic();
  }

  /** An abandoned call's events go back to the front as they were (still buffered; replays still replays). */
  returnCall(batch: Batch): void {
    this.inCalls -= batch.values.length;
    this.queue.unshift(batch.values, batch.offsets);
  }

  /** Takes the barrier at the head, if one is there. */
  shiftBarrier(): Barrier | undefined {
    return this.queue.shiftMark() as Barrier | undefined;
  }

  /** Events queued before the next barrier. */
  ready(): number {
    return this.queue.marks === 0 ? this.queue.length : this.queue.beforeMark();
  }

  /** A barrier is at the head. */
  barrierNext(): boolean {
    return this.queue.marks > 0 && this.queue.headMark() !== undefined;
  }

  /** Events and barriers queued in all. */
  queued(): number {
    return this.queue.length + this.queue.marks;
  }

  /** How long events have waited since the oldest arrived or a call last ended, whichever is later; null when none waits. */
  waitingMs(): number | null {
    return this.depth() === 0 ? null : Math.max(0, this.clock.monotonic() - this.waitingSince);
  }

  /** Resolves once the mailbox has room (see {@link hasRoom}), or `closed()` says the node is done. */
  whenRoom(closed: () => boolean): Promise<void> {
    if (this.hasRoom() || closed()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Wakes those waiting for room, if there is room (or `all`: the node is done). */
  wakeRoomWaiters(all = false): void {
    if (this.roomWaiters.length > 0 && (all || this.hasRoom())) for (const resume of this.roomWaiters.splice(0)) resume();
  }

  private count(n: number): void {
    const flow = this.flow;
    flow.buffered += n;
    if (flow.buffered > flow.peak) flow.peak = flow.buffered;
  }
}
