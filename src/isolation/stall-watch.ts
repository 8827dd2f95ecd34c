import { readPosition, type CallPosition } from './call-progress.js';
import { setTimer, systemClock, type CancelTimer } from '../core/clock.js';

/**
 * Watches a thread stage's worker through its progress buffer while calls are in flight: when the
 * worker's position (call, event) has not moved for `timeoutMs`, it calls `onStall` with that
 * position. It looks every quarter of `timeoutMs`, so an event (or a `processBatch` call) is
 * stopped between `timeoutMs` and `1.25 × timeoutMs` after it began, however long its batch.
 * No timer runs while it is stopped.
 *
 * @example
 * const watch = new StallWatch(progress, 200, (at) => kill(at));
 * watch.start(); // a call was sent
 * watch.stop();  // no call is in flight any more
 */
export class StallWatch {
  private readonly stepMs: number;
  private timer: CancelTimer | undefined;
  private seen: CallPosition = { call: 0, index: 0 };
  private seenAt = 0;

  constructor(
    private readonly progress: Int32Array,
    private readonly timeoutMs: number,
    private readonly onStall: (at: CallPosition) => void,
  ) {
    this.stepMs = Math.max(1, timeoutMs / 4);
  }

  /** Starts watching (when a call is sent while none was in flight); does nothing while it watches. */
  start(): void {
    if (this.timer !== undefined) return;
    this.seen = readPosition(this.progress);
    this.seenAt = performance.now();
    this.timer = setTimer(systemClock, this.stepMs, this.check);
  }

  /** Stops watching and leaves no timer. */
  stop(): void {
    if (this.timer === undefined) return;
    this.timer();
    this.timer = undefined;
  }

  private readonly check = (): void => {
    const now = performance.now();
    const at = readPosition(this.progress);
    if (at.call !== this.seen.call || at.index !== this.seen.index) {
      // It moved since the last look: what it runs now began after that look, at the earliest.
      this.seen = at;
      this.seenAt = now;
      this.timer = setTimer(systemClock, this.stepMs, this.check);
      return;
    }
    const left = this.seenAt + this.timeoutMs - now;
    if (left > 0) {
      this.timer = setTimer(systemClock, Math.min(this.stepMs, left), this.check);
      return;
    }
    this.timer = undefined;
    this.onStall(at);
  };
}
