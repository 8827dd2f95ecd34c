// What makes a checkpoint due: source events since the last barrier (`everyEvents`), the `everyMs`
// timer on the pipeline's clock, and requests (`pipeline.checkpoint()`); `checkpointDue` decides.
import { setTimer, type CancelTimer } from '../core/clock.js';
import type { CheckpointWaiter } from './checkpoint-in-flight.js';
import type { CoordinatorEnv } from './coordinator-env.js';
import { checkpointDue } from './schedule.js';

/** How often checkpoints are taken: every N source events, every T ms (0: not by that). */
export interface CheckpointEvery {
  everyEvents: number;
  everyMs: number;
}

/** The triggers of a coordinator's checkpoints, and who asked for the next one. */
export class CheckpointTriggers {
  private eventsAtLast = 0;
  /** The `everyMs` timer fired since the last barrier. */
  private timeDue = false;
  private requested: CheckpointWaiter[] = [];
  private cancelTimer: CancelTimer = () => {};

  constructor(
    private readonly every: CheckpointEvery,
    private readonly env: Pick<CoordinatorEnv, 'clock' | 'events' | 'nudge'>,
    /** True once no checkpoint starts any more: the timer is not armed again. */
    private readonly stopped: () => boolean,
  ) {}

  /** Counts the source's events from now. */
  countFromNow(): void {
    this.eventsAtLast = this.env.events();
  }

  /** Starts the `everyMs` timer (if any). */
  startTimer(): void {
    if (this.every.everyMs > 0) this.tick();
  }

  /** The `everyMs` timer, on the pipeline's clock, re-armed after each tick; unref'd: it never keeps the process alive. */
  private tick(): void {
    this.cancelTimer = setTimer(
      this.env.clock,
      this.every.everyMs,
      () => {
        this.timeDue = true;
        this.env.nudge();
        if (!this.stopped()) this.tick();
      },
      { unref: true },
    );
  }

  /** Stops the timer. */
  stopTimer(): void {
    this.cancelTimer();
  }

  /** Whether a checkpoint begins now; `blocked`: the coordinator may not start one. A timer's turn with nothing new to save is skipped. */
  due(blocked: boolean): boolean {
    const decision = checkpointDue({
      blocked,
      everyEvents: this.every.everyEvents,
      sinceLast: this.env.events() - this.eventsAtLast,
      timeDue: this.timeDue,
      requested: this.requested.length > 0,
    });
    if (decision === 'skip') this.timeDue = false;
    return decision === 'begin';
  }

  /** A checkpoint begins: the count and the timer's turn start over; returns who asked for it. */
  begun(): CheckpointWaiter[] {
    this.timeDue = false;
    this.eventsAtLast = this.env.events();
    const waiters = this.requested;
    this.requested = [];
    return waiters;
  }

  /** Someone asks for a checkpoint: the pump is woken, and `waiter` settles with the next one to begin. */
  request(waiter: CheckpointWaiter): void {
    this.requested.push(waiter);
    this.env.nudge();
  }

  /** Rejects every request not begun yet, each with its own `error()`. */
  dropRequests(error: () => Error): void {
    for (const r of this.requested) r.reject(error());
    this.requested = [];
  }
}
