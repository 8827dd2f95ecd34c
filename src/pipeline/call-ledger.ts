import type { Logger } from 'pino';
import type { Batch } from '../core/batch-queue.js';
import type { Clock } from '../core/clock.js';
import { StageCallError, messageOf } from '../core/errors.js';
import { updatePerEventMs } from '../core/adaptive-batch.js';
import { BatchFailure, type CallOutcome } from '../stage/run-call.js';
import type { CallFailure } from '../stage/outputs.js';
import type { Mailbox } from './mailbox.js';
import type { Outlet } from './outlet.js';
import type { Observers } from './observer.js';
import type { ReplayLog } from './replay-log.js';
import { CallsInFlight, type CallRecord } from './calls-in-flight.js';

/** What the ledger of one node works with. */
export interface LedgerEnv {
  readonly name: string;
  readonly group: string;
  readonly mailbox: Mailbox;
  /** Where outputs go (set once the graph is wired; replaced when a node it feeds is scaled). */
  outlet(): Outlet;
  /** The restart point under checkpoints (stages only); undefined without checkpoints. */
  readonly replayLog: ReplayLog | undefined;
  readonly clock: Clock;
  readonly observers: Observers | undefined;
  readonly log: Logger;
  /** Reports a failure that does not stop the pipeline. */
  report(error: StageCallError): void;
  /** For a variant stage: where the events it fails on go (the main stage), instead of being reported. */
  fallback(): ((values: unknown[], offsets: number[]) => void) | undefined;
}

/**
 * The calls of one node and what each one's end does to it: its outputs routed (a replay's
 * dropped: they were delivered before the restart), its failures reported, the events that built
 * the state remembered for a replay, a failed call's unprocessed rest put back, the room reserved
 * downstream given back, and the counts and timings of the stats.
 */
export class CallLedger {
  readonly counters = { eventsIn: 0, eventsOut: 0, failedEvents: 0, fallbacks: 0, busyMs: 0 };
  perEventMs = Number.NaN;
  readonly inFlight = new CallsInFlight();

  constructor(private readonly env: LedgerEnv) {}

  /** A call takes `batch`: room for its outputs is reserved downstream. */
  start(batch: Batch, replay: boolean): CallRecord {
    const call: CallRecord = { batch, takenAt: this.env.clock.monotonic(), replay };
    this.inFlight.add(call);
    this.env.outlet().reserve(batch.values.length);
    return call;
  }

  /** A call succeeded (maybe resuming past failed events). */
  succeeded(call: CallRecord, output: CallOutcome): void {
    const { batch, replay } = call;
    const failures = output.failures;
    this.end(call, true, failures?.length ?? 0);
    if (!replay) {
      this.counters.eventsIn += batch.values.length;
      this.counters.eventsOut += output.values.length;
      // Outputs go into the room reserved for them before the reservation is given back.
      this.env.outlet().route(output.values, output.offsets);
    }
    if (failures === undefined) this.env.replayLog?.remember(batch.values, batch.offsets);
    else this.resumedPast(batch, failures, replay);
    this.env.outlet().release(batch.values.length);
    forget(output, batch);
  }

  /** A call failed; returns the error that stands for it (the stage's crash, if the machine restarts it). */
  failedCall(call: CallRecord, error: unknown): StageCallError {
    const { batch, replay } = call;
    const n = batch.values.length;
    this.end(call, false, n);
    let failure: StageCallError;
    if (error instanceof BatchFailure) {
      const { committed, rest } = error;
      const processed = n - rest.values.length;
      if (!replay) {
        this.counters.eventsOut += committed.values.length;
        this.env.outlet().route(committed.values, committed.offsets);
        this.counters.eventsIn += processed;
        this.counters.failedEvents += error.error.events.length;
      }
      // The events before the failing ones built the state the machine keeps (but those the call went on past).
      const kept = processed - error.error.events.length;
      const prefix = { values: batch.values.slice(0, kept), offsets: batch.offsets.slice(0, kept) };
      if (committed.failures !== undefined) this.resumedPast(prefix, committed.failures, replay);
      else if (kept > 0) this.env.replayLog?.remember(prefix.values, prefix.offsets);
      if (rest.values.length > 0) this.env.mailbox.requeue(rest.values, rest.offsets, replay);
      failure = error.error;
    } else {
      if (!replay) {
        this.counters.eventsIn += n;
        this.counters.failedEvents += n;
      }
      // A timeout or a crash of a thread stage keeps its own code; anything else is a failed call.
      failure =
        error instanceof StageCallError
          ? error
          : new StageCallError('STAGE_CALL_FAILED', this.env.name, `stage "${this.env.name}" failed on ${n} events: ${messageOf(error)}`, { offsets: batch.offsets, events: batch.values }, error);
    }
    if (replay) failure = this.replayFailed(failure);
    this.failed(failure);
    this.env.outlet().release(n);
    forget(error instanceof BatchFailure ? error.committed : undefined, batch);
    return failure;
  }

  /** The incarnation is abandoned: its calls' events go back to the front of the mailbox, their room downstream is given back. */
  abandon(): void {
    for (const call of this.inFlight.abandonAll()) {
      this.env.outlet().release(call.batch.values.length);
      this.env.mailbox.returnCall(call.batch);
    }
  }

  /** A failed call's events: reported, or for a variant stage sent back to the main stage. */
  private failed(error: StageCallError): void {
    const fallback = this.env.fallback();
    if (fallback === undefined) {
      this.env.report(error);
      return;
    }
    this.counters.fallbacks += error.events.length;
    this.env.log.warn({ err: error, events: error.events.length }, `variant failed; ${error.events.length} events fall back to the main stage`);
    fallback([...error.events], [...error.offsets]);
  }

  /** Ends a call: timing, and its events leave the mailbox. */
  private end(call: CallRecord, ok: boolean, failed: number): void {
    this.inFlight.remove(call);
    const n = call.batch.values.length;
    this.env.mailbox.callEnded(n, call.replay);
    const ms = this.env.clock.monotonic() - call.takenAt;
    this.perEventMs = updatePerEventMs(this.perEventMs, ms, n);
    this.counters.busyMs += ms;
    const observers = this.env.observers;
    // Nothing is allocated unless someone listens: this runs once per call.
    if (observers !== undefined && observers.size > 0) observers.emit({ type: 'steadfast.stage.call', stage: this.env.name, group: this.env.group, events: n, ms, ok, failed: ok ? failed : n });
  }

  /**
   * A call that went on past failed events (`onFailure: 'resume'`): each is reported, and only the
   * events that succeeded are kept for a replay (they built the state; the failed ones did not).
   */
  private resumedPast(batch: Batch, failures: readonly CallFailure[], replay: boolean): void {
    if (!replay) this.counters.failedEvents += failures.length;
    for (const { error } of failures) this.failed(replay ? this.replayFailed(error) : error);
    this.env.replayLog?.rememberSucceeded(batch, failures);
  }

  /**
   * A call failed while replaying after a restart: those events were handled before it, and their
   * outputs delivered, so they are not failed events; but the rebuilt state lacks their effect.
   */
  private replayFailed(error: StageCallError): StageCallError {
    const name = this.env.name;
    const at = error.offsets.length === 1 ? `offset ${error.offsets[0]}` : `offsets ${error.offsets[0]}..${error.offsets[error.offsets.length - 1]}`;
    const message = `stage "${name}" failed at ${at} while replaying after a restart (their outputs were delivered before it; the rebuilt state lacks their effect): ${messageOf(error.cause ?? error)}`;
    return new StageCallError('STAGE_REPLAY_FAILED', name, message, error, error);
  }
}

const NOTHING: never[] = [];

/**
 * Cuts the links from a finished call's result and input to their arrays. XState's snapshots and
 * events of the call may still point at these objects and linger in the old generation until a full
 * GC; without this they would keep every event of the batch alive (and promoted) that long.
 */
function forget(output: CallOutcome | undefined, input: Batch): void {
  if (output !== undefined) {
    output.values = NOTHING;
    output.offsets = NOTHING;
  }
  input.values = NOTHING;
  input.offsets = NOTHING;
}
