import type { CancelTimer, Clock } from './clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock whose time moves only when told (`advance`): timers fire in order of their due time
 * (then of setting), each at its time, with `now()` and `monotonic()` reading it. For tests of
 * backoff, breakers, schedules and budgets without real waiting.
 *
 * @example
 * const clock = new SimulatedClock();
 * const supervisor = createSupervisor({ clock, children, backoff: { minMs: 100 } });
 * await clock.advance(100); // the restart's backoff elapses
 */
export class SimulatedClock implements Clock {
  private time: number;
  private readonly epoch: number;
  private seq = 0;
  private readonly timers = new Map<number, Pending>();

  constructor(options: { epochMs?: number } = {}) {
    this.epoch = options.epochMs ?? 1_700_000_000_000;
    this.time = 0;
  }

  now(): number {
    return this.epoch + this.time;
  }

  monotonic(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    const seq = this.seq++;
    this.timers.set(seq, { at: this.time + Math.max(0, ms), seq, fn });
    return () => {
      this.timers.delete(seq);
    };
  }

  /** Timers set and not fired or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, firing each timer due on the way at its time. Between two timers
   * (and at the end) the promise callbacks queued by the ones before run, so that work a timer
   * starts can set the next timer before time moves past it.
   */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    await settle();
    for (;;) {
      const next = this.next();
      if (next === undefined || next.at > until) break;
      this.timers.delete(next.seq);
      this.time = Math.max(this.time, next.at);
      next.fn();
      await settle();
    }
    this.time = until;
    await settle();
  }

  private next(): Pending | undefined {
    let first: Pending | undefined;
    for (const timer of this.timers.values()) if (first === undefined || timer.at < first.at || (timer.at === first.at && timer.seq < first.seq)) first = timer;
    return first;
  }
}

/** Lets queued promise callbacks run (a few turns of the microtask queue, and one macrotask). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
