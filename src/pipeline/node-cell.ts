import type { Logger } from 'pino';
import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { fromCall } from './call-logic.js';
import {
  stageMachine,
  type StageCallOutput,
  type StageMachineEvent,
  type StageOpenOutput,
  type StageStateValue,
} from '../../machines/stage.machine.js';
import { nextBatchSize, updatePerEventMs } from '../core/adaptive-batch.js';
import { BatchQueue, type Batch } from '../core/batch-queue.js';
import type { Clock } from '../core/clock.js';
import { SteadfastError, StageCallError, isSteadfastError, messageOf } from '../core/errors.js';
import { newId } from '../ids.js';
import type { Outlet, Inlet } from './outlet.js';
import type { FlowCounter, Producer } from './producer.js';
import { BatchFailure, type CallOutcome, type CallRunner, type MutableStageContext } from './run-call.js';

/** The settings of one node instance. */
export interface CellConfig {
  name: string;
  group: string;
  replica: number | undefined;
  kind: 'stage' | 'sink';
  capacity: number;
  maxBatch: number;
  targetBatchMs: number;
  /** The state a new instance starts from (called when the stage opens; may throw). */
  initialState: () => unknown;
  runner: CallRunner;
  open: () => void | Promise<void>;
  close: () => void | Promise<void>;
}

/** What a cell reports to its pipeline. */
export interface CellHooks {
  clock: Clock;
  flow: FlowCounter;
  log: Logger;
  /** Reports a failure that does not stop the pipeline; `log` is the reporting actor's logger. */
  report(error: SteadfastError, log: Logger): void;
  onComplete(cell: NodeCell): void;
}

/**
 * The runtime of one node instance: its mailbox, its credit with the nodes it feeds, and the XState
 * actor (the stage machine) that decides when to call the user's code. The machine gets its effects
 * from here through `provide()`.
 */
export class NodeCell implements Inlet, Producer {
  readonly name: string;
  readonly group: string;
  readonly replica: number | undefined;
  readonly kind: 'stage' | 'sink';
  readonly capacity: number;
  readonly maxBatch: number;
  readonly targetBatchMs: number;
  readonly actorId = newId();
  readonly producers: Producer[] = [];
  inputs = 0;
  inputsEnded = 0;
  reserved = 0;
  outlet!: Outlet;
  /** The error that ended the cell in `failed` (open or close failed, or the actor crashed). */
  failure: SteadfastError | undefined;

  readonly counters = { eventsIn: 0, eventsOut: 0, failedEvents: 0, busyMs: 0, peakDepth: 0 };
  perEventMs = Number.NaN;

  private readonly queue = new BatchQueue();
  /** Aborted when the stage is abandoned; every call sees it as `ctx.signal`. */
  private readonly abort = new AbortController();
  private inFlight: Batch | undefined;
  private takenAt = 0;
  private readonly ctx: MutableStageContext;
  private readonly log: Logger;
  private readonly actor: Actor<typeof stageMachine>;

  constructor(
    private readonly config: CellConfig,
    private readonly hooks: CellHooks,
  ) {
    this.name = config.name;
    this.group = config.group;
    this.replica = config.replica;
    this.kind = config.kind;
    this.capacity = config.capacity;
    this.maxBatch = config.maxBatch;
    this.targetBatchMs = config.targetBatchMs;
    this.log = hooks.log.child({ stage: config.name, actorId: this.actorId });
    this.ctx = { stage: config.name, offset: 0, offsets: [], signal: this.abort.signal, log: this.log };
    const machine = stageMachine.provide({
      actors: {
        open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(async () => {
          await config.open();
          return { state: config.initialState() };
        }),
        call: fromCall<StageCallOutput, { state: unknown }>((input) => this.runCall(input.state)),
        close: fromPromise(async () => config.close()),
      },
      guards: {
        hasInput: () => this.queue.length > 0,
        hasCredit: () => this.hasCredit(),
      },
      actions: {
        deliver: (_, params) => this.deliver(params.output as CallOutcome),
        reportFailure: (_, params) => this.reportFailure(params.error),
        reportLifecycleFailure: (_, params) => this.lifecycleFailed(params.phase, params.error),
      },
    });
    this.actor = createActor(machine, { input: { stage: config.name, state: undefined }, id: config.name });
    this.actor.subscribe({
      complete: () => hooks.onComplete(this),
      error: (error) => {
        this.failure = new SteadfastError('STAGE_CRASHED', `stage "${this.name}" crashed: ${messageOf(error)}`, { cause: error });
        hooks.onComplete(this);
      },
    });
  }

  /** Starts the actor (it opens, then waits for input). */
  start(): void {
    this.actor.start();
  }

  /** Resolves once the actor has left `starting` (opened, or failed to). */
  async opened(): Promise<void> {
    try {
      await waitFor(this.actor, (snapshot) => snapshot.status !== 'active' || snapshot.value !== 'starting');
    } catch {
      // The actor crashed while opening: `failure` says why, and status() is 'failed'.
    }
  }

  /** Stops the actor at once, abandoning queued and in-flight events; returns how many. */
  kill(): number {
    const abandoned = this.depth();
    this.abort.abort(new SteadfastError('STOP_TIMEOUT', `stage "${this.name}" was abandoned`));
    this.actor.stop();
    return abandoned;
  }

  /** The machine's current state. */
  status(): StageStateValue {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status === 'error') return 'failed';
    return snapshot.value as StageStateValue;
  }

  /** The stage's state after its last successful call. */
  stageState(): unknown {
    return this.actor.getSnapshot().context.state;
  }

  /** Calls made and calls failed, from the machine's context. */
  calls(): { calls: number; failedCalls: number } {
    const { calls, failedCalls } = this.actor.getSnapshot().context;
    return { calls, failedCalls };
  }

  /** Events queued or in a call. */
  depth(): number {
    return this.queue.length + (this.inFlight?.values.length ?? 0);
  }

  /** Ends the input at once, whatever upstream does: the stage drains its mailbox and stops. */
  endNow(): void {
    this.send({ type: 'steadfast.stage.end' });
  }

  /** One more upstream finished; after the last, the stage drains and stops. */
  inputEnded(): void {
    this.inputsEnded++;
    if (this.inputsEnded >= this.inputs) this.send({ type: 'steadfast.stage.end' });
  }

  // Inlet: what producers see.

  free(): number {
    return this.capacity - this.queue.length - (this.inFlight?.values.length ?? 0) - this.reserved;
  }

  enqueue(values: unknown[], offsets: number[]): void {
    this.queue.push(values, offsets);
    const flow = this.hooks.flow;
    flow.buffered += values.length;
    if (flow.buffered > flow.peak) flow.peak = flow.buffered;
    if (this.queue.length > this.counters.peakDepth) this.counters.peakDepth = this.queue.length;
    if (this.actor.getSnapshot().value === 'idle') this.actor.send({ type: 'steadfast.stage.input' });
  }

  // Producer: how the nodes this one feeds wake it.

  isBlocked(): boolean {
    return this.actor.getSnapshot().value === 'blocked';
  }

  canTake(): boolean {
    return this.queue.length > 0 && this.hasCredit();
  }

  wake(): void {
    this.send({ type: 'steadfast.stage.credit' });
  }

  /** Sends to the actor unless it has finished (a final state ignores events, and XState warns). */
  private send(event: StageMachineEvent): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  // Effects supplied to the machine.

  private wantSize(): number {
    return Math.min(nextBatchSize(this.perEventMs, this.targetBatchMs, this.maxBatch), this.queue.length);
  }

  private hasCredit(): boolean {
    const want = this.wantSize();
    return this.outlet.minFree() >= Math.min(want, this.outlet.lowWater);
  }

  private runCall(state: unknown): CallOutcome | Promise<CallOutcome> {
    const n = Math.max(0, Math.min(this.wantSize(), this.outlet.minFree()));
    const batch = this.queue.take(n);
    this.inFlight = batch;
    this.outlet.reserve(batch.values.length);
    this.takenAt = this.hooks.clock.monotonic();
    if (batch.values.length === 0) return { state, values: [], offsets: [] };
    return this.config.runner(batch, state, this.ctx);
  }

  /** Ends the call in flight: timing, and the events it held leave the buffered count. */
  private finishCall(): Batch {
    const batch = this.inFlight ?? { values: [], offsets: [] };
    const n = batch.values.length;
    this.inFlight = undefined;
    this.hooks.flow.buffered -= n;
    const ms = this.hooks.clock.monotonic() - this.takenAt;
    this.perEventMs = updatePerEventMs(this.perEventMs, ms, n);
    this.counters.busyMs += ms;
    return batch;
  }

  private deliver(output: CallOutcome): void {
    const batch = this.finishCall();
    this.counters.eventsIn += batch.values.length;
    this.counters.eventsOut += output.values.length;
    // Outputs go into the room reserved for them before the reservation is given back.
    this.outlet.route(output.values, output.offsets);
    this.outlet.release(batch.values.length);
    forget(output, batch);
    this.roomFreed();
  }

  private reportFailure(error: unknown): void {
    const batch = this.finishCall();
    if (error instanceof BatchFailure) {
      const { committed, rest } = error;
      this.counters.eventsOut += committed.values.length;
      this.outlet.route(committed.values, committed.offsets);
      if (rest.values.length > 0) {
        this.queue.unshift(rest.values, rest.offsets);
        this.hooks.flow.buffered += rest.values.length;
      }
      this.counters.eventsIn += batch.values.length - rest.values.length;
      this.counters.failedEvents += error.error.events.length;
      this.hooks.report(error.error, this.log);
    } else {
      this.counters.eventsIn += batch.values.length;
      this.counters.failedEvents += batch.values.length;
      const message = `stage "${this.name}" failed on ${batch.values.length} events: ${messageOf(error)}`;
      this.hooks.report(new StageCallError('STAGE_CALL_FAILED', this.name, message, { offsets: batch.offsets, events: batch.values }, error), this.log);
    }
    this.outlet.release(batch.values.length);
    forget(error instanceof BatchFailure ? error.committed : undefined, batch);
    this.roomFreed();
  }

  private lifecycleFailed(phase: 'open' | 'close', error: unknown): void {
    const code = phase === 'open' ? 'STAGE_OPEN_FAILED' : 'STAGE_CLOSE_FAILED';
    this.failure = isSteadfastError(error, code)
      ? error
      : new SteadfastError(code, `${this.kind} "${this.name}" failed to ${phase}: ${messageOf(error)}`, { cause: error });
    this.log.error({ err: this.failure }, `${this.kind} ${phase} failed`);
  }

  /** Room in this mailbox was freed (a call ended, or a producer gave back a reservation): wake producers waiting for it. */
  roomFreed(): void {
    for (let i = 0; i < this.producers.length; i++) {
      const producer = this.producers[i] as Producer;
      if (producer.isBlocked() && producer.canTake()) producer.wake();
    }
  }
}

const NOTHING: never[] = [];

/**
 * Cuts the links from a finished call's result and input to their arrays. XState's snapshots and
 * events of the call still point at these objects and may linger in the old generation until a full
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
