import type { Logger } from 'pino';
import type { Batch } from '../core/batch-queue.js';
import { messageOf } from '../core/errors.js';
import type { CallFailure } from '../stage/outputs.js';

/** Where a restarted incarnation starts: from a state (instead of `initialState()`), and with the events to replay first. */
export interface RestartPlan {
  startFrom: { state: unknown } | undefined;
  /** Events processed since the snapshot, oldest first: they go back to the front of the mailbox. */
  replay: Batch[];
}

/**
 * A stage's restart point under checkpoints: the state at its last barrier (or restore), and the
 * events it processed since, replayed to a restarted incarnation (their outputs dropped) so that it
 * rebuilds the state it had. Past `limit` events the log is dropped and a restart starts from the
 * last state the stage had instead.
 */
export class ReplayLog {
  /** The state at the last barrier (or restore). */
  private snapshot: { state: unknown } | undefined;
  /** Events processed since that state; undefined once over the limit. */
  private log: Batch[] | undefined = [];
  private logged = 0;
  private overflows = 0;

  constructor(
    private readonly limit: number,
    private readonly log_: Logger,
  ) {}

  /** From now on a restart starts from `state` (copied unless `copied`), replaying what is processed after it. */
  restartPoint(state: unknown, copied = false): void {
    this.snapshot = { state: copied ? state : this.copy(state) };
    this.log = [];
    this.logged = 0;
  }

  /** Keeps processed events for a replay, up to the limit. */
  remember(values: unknown[], offsets: number[]): void {
    const log = this.log;
    if (log === undefined || values.length === 0) return;
    this.logged += values.length;
    if (this.logged > this.limit) {
      this.log = undefined;
      // Once at warn level: with checkpoints further apart than the limit it happens between every two.
      const level = this.overflows++ === 0 ? 'warn' : 'debug';
      this.log_[level]({ replayLimit: this.limit }, 'more events since the last checkpoint than the replay limit: until the next one, a restart starts from the last state instead of the snapshot');
      return;
    }
    log.push({ values, offsets });
  }

  /** Keeps the events of a call that went on past failed ones: only those that succeeded built the state. */
  rememberSucceeded(batch: Batch, failures: readonly CallFailure[]): void {
    if (this.log === undefined) return;
    const values: unknown[] = [];
    const offsets: number[] = [];
    let next = 0;
    for (const { index } of failures) {
      for (let i = next; i < index; i++) {
        values.push(batch.values[i]);
        offsets.push(batch.offsets[i] as number);
      }
      next = index + 1;
    }
    for (let i = next; i < batch.values.length; i++) {
      values.push(batch.values[i]);
      offsets.push(batch.offsets[i] as number);
    }
    this.remember(values, offsets);
  }

  /**
   * Before a restart: start from the snapshot (a copy: the new incarnation may update its state in
   * place) and replay the events logged since. Without a log (over the limit), start from
   * `lastState`, which becomes the new restart point.
   */
  prepare(lastState: unknown): RestartPlan {
    const log = this.log;
    if (log === undefined) {
      this.restartPoint(lastState);
      return { startFrom: { state: lastState }, replay: [] };
    }
    const startFrom = this.snapshot === undefined ? undefined : { state: this.copy(this.snapshot.state) };
    this.log = [];
    this.logged = 0;
    return { startFrom, replay: log };
  }

  /** A deep copy (structured clone); a state that cannot be cloned is kept as is, with a warning. */
  copy(state: unknown): unknown {
    if (state === null || typeof state !== 'object') return state;
    try {
      return structuredClone(state);
    } catch (error) {
      this.log_.warn({ err: error }, `stage state cannot be copied (${messageOf(error)}): its snapshot shares the live object, so updating it in place changes the snapshot`);
      return state;
    }
  }
}
