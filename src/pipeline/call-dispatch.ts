import type { MailboxView, StageCallInput, StageMachineEvent } from '../../machines/stage.machine.js';
import { nextBatchSize } from '../core/adaptive-batch.js';
import type { CallOutcome, CallRunner, MutableStageContext } from '../stage/run-call.js';
import { CallLedger, type LedgerEnv } from './call-ledger.js';
import type { CallRecord } from './calls-in-flight.js';

/** What the dispatch of one node works with (its ledger's too). */
export interface DispatchEnv extends LedgerEnv {
  /** The stage's runner (replaced by a swap). */
  runner(): CallRunner;
  readonly ctx: MutableStageContext;
  /** Calls in flight at most: with more than one, each call gets a context of its own. */
  concurrency(): number;
  readonly maxBatch: number;
  readonly targetBatchMs: number;
  /** Nodes fed a barrier that still align it: reported to the machine. */
  stalls(): number;
  /** Sends the stage machine an event, unless it has finished. */
  send(event: StageMachineEvent): void;
  /** A call's end gave room back. */
  roomFreed(): void;
  /** The failure a call ended with: the stage's crash, if the machine restarts it for it. */
  failedWith(failure: unknown): void;
}

/**
 * Carries out the calls the stage machine starts: takes a batch as large as the stage's pace and
 * the room downstream allow, runs the stage's code, settles the call in the ledger, and reports its
 * end to the machine with the mailbox as it is then. Also the machine's view of the mailbox.
 */
export class CallDispatch {
  /** The calls: in flight, their ends, counts and timings. */
  readonly ledger: CallLedger;

  constructor(private readonly env: DispatchEnv) {
    this.ledger = new CallLedger(env);
  }

  /** The facts the machine's guards read. */
  view(): MailboxView {
    const mailbox = this.env.mailbox;
    return {
      ready: mailbox.ready(),
      queued: mailbox.queued(),
      barrierNext: mailbox.barrierNext(),
      credit: this.hasCredit(),
      paused: mailbox.paused,
      stalls: this.env.stalls(),
    };
  }

  /** Downstream has room for a worthwhile call: all it wants, or at least its low-water mark. */
  hasCredit(): boolean {
    const outlet = this.env.outlet();
    return outlet.minFree() >= Math.min(this.wantSize(), outlet.lowWater);
  }

  /** The machine started a call: take a batch, run the stage's code, report its end. */
  start({ state, failuresInRow, failurePolicy }: StageCallInput): void {
    const { env } = this;
    // Concurrent calls each get a context of their own: a call sets its offsets on it as it goes.
    const ctx = env.concurrency() > 1 ? { ...env.ctx } : env.ctx;
    ctx.failuresInRow = failuresInRow;
    ctx.failurePolicy = failurePolicy;
    let n = Math.max(0, Math.min(this.wantSize(), env.outlet().minFree()));
    // Replays run in calls of their own, so that their outputs can be told apart and dropped.
    const replaying = env.mailbox.replaying > 0 ? env.mailbox.replaying - this.ledger.inFlight.replayEvents() : 0;
    if (replaying > 0) n = Math.min(n, replaying);
    const batch = env.mailbox.take(n);
    const call = this.ledger.start(batch, replaying > 0);
    // The machine set its view aside as it started this call: with concurrency to spare, it hears
    // at once what is left, and may start another (the send is queued behind its current step).
    if (env.concurrency() > 1) env.send({ type: 'steadfast.stage.input', mailbox: this.view() });
    // A call's end is reported in a microtask even when the stage answered synchronously: other
    // work (a stop(), a push, a timer's promise) interleaves between calls, and a chain of
    // synchronous stages does not run as one deep synchronous stack.
    if (batch.values.length === 0) {
      queueMicrotask(() => this.settle(call, { state, values: [], offsets: [] }));
      return;
    }
    let result: CallOutcome | Promise<CallOutcome>;
    try {
      result = env.runner()(batch, state, ctx);
    } catch (error) {
      queueMicrotask(() => this.settleFailure(call, error));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (outcome) => this.settle(call, outcome),
        (error: unknown) => this.settleFailure(call, error),
      );
    } else {
      const outcome = result;
      queueMicrotask(() => this.settle(call, outcome));
    }
  }

  private wantSize(): number {
    const { env } = this;
    return Math.min(nextBatchSize(this.ledger.perEventMs, env.targetBatchMs, env.maxBatch), env.mailbox.queue.length);
  }

  private settle(call: CallRecord, outcome: CallOutcome): void {
    const { env } = this;
    if (!this.ledger.inFlight.has(call)) return; // its incarnation was abandoned
    this.ledger.succeeded(call, outcome);
    env.send({ type: 'steadfast.stage.done', output: outcome, mailbox: this.view() });
    env.roomFreed();
  }

  private settleFailure(call: CallRecord, error: unknown): void {
    const { env } = this;
    if (!this.ledger.inFlight.has(call)) return;
    env.failedWith(this.ledger.failedCall(call, error));
    env.send({ type: 'steadfast.stage.failed', error, mailbox: this.view() });
    env.roomFreed();
  }
}
