import type { Batch } from '../core/batch-queue.js';
import type { Clock } from '../core/clock.js';
import { SteadfastError, isSteadfastError, messageOf } from '../core/errors.js';
import type { Source, SourceReader } from '../sources/source.js';
import type { Outlet } from './outlet.js';
import type { Producer } from './producer.js';
import type { Barrier, PumpBarriers } from '../checkpointing/barrier.js';
import { BarrierAligner } from '../checkpointing/barrier-aligner.js';

/** Where the pump is: reading, waiting for room downstream, or finished (and how). */
export type PumpStatus = 'idle' | 'reading' | 'waiting' | 'ended' | 'stopped' | 'failed';

/** A long synchronous stretch of reading yields to the event loop after this many milliseconds. */
const YIELD_EVERY_MS = 10;

/**
 * Pulls events from the source into the first nodes' mailboxes, only as fast as they have room.
 * Runs until the source ends, fails, or `stop()` is called; then tells the first nodes.
 */
export class SourcePump implements Producer {
  status: PumpStatus = 'idle';
  events = 0;
  lastOffset: number | undefined;
  errors = 0;
  failure: SteadfastError | undefined;
  outlet!: Outlet;
  private reader: SourceReader<unknown> | undefined;
  private stopRequested = false;
  private resume: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  /** Checkpoint barriers, when the pipeline has checkpoints. */
  get barriers(): PumpBarriers | undefined {
    return this.barrierSource;
  }

  set barriers(barriers: PumpBarriers | undefined) {
    this.barrierSource = barriers;
    this.aligner = new BarrierAligner(barriers?.aligned === true);
  }

  private barrierSource: PumpBarriers | undefined;
  /** The offset before the first event this run reads (-1, or the committed offset when restored). */
  startOffset = -1;
  /** Nodes fed the last barrier that still wait for it on other inputs (with alignment). */
  private aligner = new BarrierAligner(false);
  /** Awaiting a read of the source or a yield to the event loop: nothing half-delivered, a barrier may go in now. */
  private parked = false;
  /** Reshapes accepted and not yet done: the pump reads nothing, and does not end, meanwhile. */
  private holds = 0;
  private unheld: (() => void) | undefined;

  constructor(
    readonly source: Source<unknown>,
    private readonly batchSize: number,
    private readonly clock: Clock,
  ) {}

  /** Opens the source (a failure here fails `start()`). */
  async open(fromOffset: number, onError: (error: SteadfastError) => void): Promise<void> {
    try {
      this.reader = await this.source.open({
        fromOffset,
        onError: (error) => {
          this.errors++;
          onError(error);
        },
      });
    } catch (error) {
      throw isSteadfastError(error)
        ? error
        : new SteadfastError('SOURCE_FAILED', `source ${this.source.name} failed to open: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Reads until the end; resolves when the pump is finished (never rejects: a failure is in `failure`). */
  async run(onFinish: () => void): Promise<void> {
    const reader = this.reader;
    if (reader === undefined) throw new SteadfastError('PIPELINE_STATE_INVALID', 'the source pump ran before open()');
    let lastYield = this.clock.monotonic();
    try {
      while (!this.stopRequested) {
        if (this.holds > 0) {
          await this.whileHeld();
          continue;
        }
        const barrier = this.barriers?.due();
        if (barrier !== undefined) {
          this.inject(barrier);
          continue;
        }
        if (this.aligner.stalls > 0) {
          await this.waitForRoom();
          continue;
        }
        if (!this.canTake()) {
          await this.waitForRoom();
          continue;
        }
        const n = Math.min(this.batchSize, this.outlet.minFree());
        this.status = 'reading';
        this.outlet.reserve(n);
        let batch: Batch<unknown> | null;
        try {
          const got = reader.read(n);
          if (got instanceof Promise) {
            this.parked = true;
            batch = await got;
          } else batch = got as Batch<unknown> | null;
        } catch (error) {
          this.outlet.release(n);
          throw error;
        } finally {
          this.parked = false;
        }
        // A barrier injected during the read is aligning downstream: its events wait until then.
        while (this.aligner.stalls > 0 && !this.stopRequested) await this.waitForRoom();
        // Events go into the room reserved for them before the reservation is given back.
        if (batch !== null) this.deliver(batch.values, batch.offsets);
        this.outlet.release(n);
        if (batch === null || this.stopRequested) break;
        const now = this.clock.monotonic();
        if (now - lastYield >= YIELD_EVERY_MS) {
          this.parked = true;
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.parked = false;
          lastYield = this.clock.monotonic();
        }
      }
      // A reshape accepted before the end runs first: neither the final barrier nor the end overtakes it.
      await this.whileHeld();
      this.status = this.stopRequested ? 'stopped' : 'ended';
      const last = this.barriers?.final();
      if (last !== undefined) this.inject(last);
    } catch (error) {
      this.status = 'failed';
      this.failure = isSteadfastError(error)
        ? error
        : new SteadfastError('SOURCE_FAILED', `source ${this.source.name} failed: ${messageOf(error)}`, { cause: error });
    }
    try {
      await this.closeReader();
    } catch (error) {
      this.failure ??= new SteadfastError('SOURCE_FAILED', `source ${this.source.name} failed to close: ${messageOf(error)}`, {
        cause: error,
      });
    }
    await this.whileHeld();
    onFinish();
  }

  /**
   * Holds the source while a reshape (scale, swap) waits for its turn and runs: nothing more is
   * read, and the source does not end, so the nodes being reshaped cannot finish their input
   * meanwhile. Returns the release (idempotent).
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) {
        const resume = this.unheld;
        this.unheld = undefined;
        resume?.();
      }
    };
  }

  private whileHeld(): Promise<void> | void {
    if (this.holds === 0) return;
    const status = this.status;
    this.status = 'waiting';
    return new Promise<void>((resolve) => {
      this.unheld = () => {
        this.status = status;
        resolve();
      };
    });
  }

  /** Stops reading; a read in progress is abandoned (the reader is closed, so it resolves). */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.closeReader().catch(() => {}); // the run loop awaits the same promise and reports its failure
    this.wake();
  }

  private closeReader(): Promise<void> {
    this.closing ??= Promise.resolve().then(() => this.reader?.close());
    return this.closing;
  }

  /** Sends a barrier after everything read so far; with alignment, reading waits for the nodes that align it. */
  private inject(barrier: Barrier): void {
    barrier.offset = this.lastOffset ?? this.startOffset;
    this.aligner.forward(this.outlet, barrier);
  }

  barrierReleased(): void {
    if (this.aligner.release()) this.wake();
  }

  /**
   * A checkpoint became due: a pump waiting for room injects its barrier now (barriers need no
   * room), and so does one waiting for its source (an idle push source must not hold checkpoints
   * back); the events of that read are delivered after the barrier.
   */
  nudge(): void {
    if (this.status === 'waiting') {
      this.wake();
      return;
    }
    // Only between deliveries: while the pump runs, its loop asks for due barriers itself.
    if (!this.parked || this.stopRequested) return;
    const barrier = this.barriers?.due();
    if (barrier !== undefined) this.inject(barrier);
  }

  isBlocked(): boolean {
    return this.status === 'waiting' && this.aligner.stalls === 0;
  }

  canTake(): boolean {
    return this.aligner.stalls === 0 && this.outlet.minFree() >= Math.min(this.batchSize, this.outlet.lowWater);
  }

  wake(): void {
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }

  private deliver(values: unknown[], offsets: number[]): void {
    if (values.length === 0) return;
    this.events += values.length;
    this.lastOffset = offsets[offsets.length - 1];
    this.outlet.route(values, offsets);
  }

  private waitForRoom(): Promise<void> {
    this.status = 'waiting';
    return new Promise((resolve) => {
      this.resume = resolve;
    });
  }
}
