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
  /** With concurrent calls: outputs are delivered in the order the calls started. */
  ordered(): boolean;
}

/** A call in start order, and once it has ended what delivers it and what goes back if it never does. */
interface Delivery {
  call: CallRecord;
  deliver: (() => void) | undefined;
  /** A failed call's unprocessed events, put back when it delivers (or is abandoned). */
  rest?: Batch;
  /** The events it processed (failed ones aside): back to the mailbox if it is abandoned before it delivers. */
  processed?: Batch;
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
  /**
   * Calls in the order they started, each with its delivery once it has ended: with ordered
   * outputs a call's outputs wait (in the room reserved for them) until every call before it has
   * delivered. With one call at a time, or unordered, each delivers as it ends.
   */
  private readonly deliveries: Delivery[] = [];

  constructor(private readonly env: LedgerEnv) {}

  /** A call takes `batch`: room for its outputs is reserved downstream. */
  start(batch: Batch, replay: boolean): CallRecord {
    const call: CallRecord = { batch, takenAt: this.env.clock.monotonic(), replay };
    this.inFlight.add(call);
    this.deliveries.push({ call, deliver: undefined });
    this.env.outlet().reserve(batch.values.length);
    return call;
  }

  /** A call succeeded (maybe resuming past failed events). */
  succeeded(call: CallRecord, output: CallOutcome): void {
    const { batch, replay } = call;
    const failures = output.failures;
    this.end(call, true, failures?.length ?? 0);
    if (!replay) this.counters.eventsIn += batch.values.length;
    if (failures === undefined) this.env.replayLog?.remember(batch.values, batch.offsets);
    else this.resumedPast(batch, failures, replay);
    this.delivered(call, replay ? undefined : output, output, () => (failures === undefined ? batch : without(batch, failures)));
  }

  /** A call failed; returns the error that stands for it (the stage's crash, if the machine restarts it). */
  failedCall(call: CallRecord, error: unknown): StageCallError {
    const { batch, replay } = call;
    const n = batch.values.length;
    this.end(call, false, n);
    let failure: StageCallError;
    let processedPrefix: Batch | undefined;
    if (error instanceof BatchFailure) {
      const { committed, rest } = error;
      const processed = n - rest.values.length;
      if (!replay) {
        this.counters.eventsIn += processed;
        this.counters.failedEvents += error.error.events.length;
      }
      // The events before the failing ones built the state the machine keeps (but those the call went on past).
      const kept = processed - error.error.events.length;
      const prefix = { values: batch.values.slice(0, kept), offsets: batch.offsets.slice(0, kept) };
      if (committed.failures !== undefined) this.resumedPast(prefix, committed.failures, replay);
      else if (kept > 0) this.env.replayLog?.remember(prefix.values, prefix.offsets);
      if (rest.values.length > 0) {
        // Back to the front at once, unless calls that started later are still in flight: then in
        // its place among theirs, so that the events run again in their order.
        const entry = this.deliveries.find((d) => d.call === call);
        if (this.inFlight.size === 0 || entry === undefined) this.env.mailbox.requeue(rest.values, rest.offsets, replay);
        else entry.rest = rest;
      }
      processedPrefix = prefix;
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
    const committed = error instanceof BatchFailure ? error.committed : undefined;
    this.delivered(call, replay ? undefined : committed, committed, processedPrefix === undefined ? undefined : () => processedPrefix as Batch);
    return failure;
  }

  /**
   * A call's delivery: its outputs (none for a replay) go into the room reserved for them, then
   * the reservation is given back. In order of start when outputs are ordered.
   */
  private delivered(call: CallRecord, outputs: CallOutcome | undefined, result: CallOutcome | undefined, processed: (() => Batch) | undefined): void {
    const at = this.deliveries.findIndex((d) => d.call === call);
    if (at < 0) return; // abandoned meanwhile
    const entry = this.deliveries[at] as Delivery;
    const deliver = () => {
      if (entry.rest !== undefined) this.env.mailbox.requeue(entry.rest.values, entry.rest.offsets, call.replay);
      if (outputs !== undefined) {
        this.counters.eventsOut += outputs.values.length;
        this.env.outlet().route(outputs.values, outputs.offsets);
      }
      this.env.outlet().release(call.batch.values.length);
      forget(result, call.batch);
    };
    if (!this.env.ordered() || at === 0) {
      this.deliveries.splice(at, 1);
      deliver();
    } else {
      const held = entry;
      held.deliver = deliver;
      // Copied: delivering forgets the batch's arrays; an abandon before that puts these back.
      if (processed !== undefined) {
        const { values, offsets } = processed();
        held.processed = { values: [...values], offsets: [...offsets] };
      }
    }
    // Calls that ended after their turn came: theirs now, in order.
    while (this.deliveries.length > 0 && this.deliveries[0]?.deliver !== undefined) (this.deliveries.shift()?.deliver as () => void)();
  }

  /** The incarnation is abandoned: its calls' events go back to the front of the mailbox, their room downstream is given back. */
  abandon(): void {
    const inFlight = new Set(this.inFlight.abandonAll());
    // Newest first, each put back at the front: the mailbox gets them back in their order. A call
    // that ended but waited for an earlier one to deliver goes back too, its outputs dropped (the
    // earlier calls run again first, so the order of outputs holds); its failed events do not.
    for (const { call, deliver, rest, processed } of this.deliveries.splice(0).reverse()) {
      const { batch } = call;
      this.env.outlet().release(batch.values.length);
      if (inFlight.has(call)) {
        this.env.mailbox.returnCall(batch);
        continue;
      }
      if (deliver === undefined) continue;
      if (rest !== undefined) this.env.mailbox.requeue(rest.values, rest.offsets, call.replay);
      if (processed !== undefined && processed.values.length > 0) {
        if (!call.replay) this.counters.eventsIn -= processed.values.length;
        this.env.mailbox.requeue(processed.values, processed.offsets, call.replay);
      }
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

/** The events of a batch but those at the failures' indexes. */
function without(batch: Batch, failures: readonly CallFailure[]): Batch {
  const failed = new Set(failures.map((f) => f.index));
  const values: unknown[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < batch.values.length; i++) {
    if (failed.has(i)) continue;
    values.push(batch.values[i]);
    offsets.push(batch.offsets[i] as number);
  }
  return { values, offsets };
}

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
