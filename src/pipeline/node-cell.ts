import type { Logger } from 'pino';
import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { fromCall } from './call-logic.js';
import {
  stageMachine,
  type StageCallInput,
  type StageCallOutput,
  type StageMachineEvent,
  type StageFailurePolicy,
  type StageOpenOutput,
  type StageStateValue,
} from '../../machines/stage.machine.js';
import type { Child, ChildDescription, ChildStartContext } from '../supervision/child.js';
import { nextBatchSize, updatePerEventMs } from '../core/adaptive-batch.js';
import { BatchQueue, type Batch } from '../core/batch-queue.js';
import type { Clock } from '../core/clock.js';
import { SteadfastError, StageCallError, isSteadfastError, messageOf } from '../core/errors.js';
import { newId } from '../ids.js';
import type { Outlet, Inlet } from './outlet.js';
import type { FlowCounter, Producer } from './producer.js';
import { BatchFailure, type CallOutcome, type CallRunner, type MutableStageContext } from '../stage/run-call.js';
import type { CallFailure } from '../stage/outputs.js';
import type { StageGuards } from './resilient-runner.js';
import { distinctCount, type Barrier, type BarrierHooks } from '../checkpointing/barrier.js';
import type { Observers } from './observer.js';
import type { Inspection } from './inspection.js';

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
  /** What a failed call does: crash the stage so that its supervisor restarts it, or resume. */
  onFailure: StageFailurePolicy;
  /** With `'resume'`: failed events in a row after which the stage restarts all the same (0: never; default 10). */
  restartAfterFailures?: number;
  /** For a variant stage: where the events it fails on go (the main stage), instead of `onError`. */
  fallback?: (values: unknown[], offsets: number[]) => void;
  /** A stage's retry, breaker and degraded mode, for its stats. */
  guards?: StageGuards;
}

/** Where a cell is in its life: an incarnation running, crashed (its supervisor restarts it), halted by its supervisor, or done for good. */
type CellPhase = 'new' | 'running' | 'crashed' | 'halted' | 'done';

/** What a cell reports to its pipeline. */
export interface CellHooks {
  clock: Clock;
  flow: FlowCounter;
  /** Listeners of `pipeline.observe()`: told of every finished call. */
  observers?: Observers;
  log: Logger;
  /** Reports a failure that does not stop the pipeline; `log` is the reporting actor's logger. */
  report(error: SteadfastError, log: Logger): void;
  onComplete(cell: NodeCell): void;
  /** Checkpointing, when the pipeline has it: barriers, snapshots, replay after a restart. */
  barriers?: BarrierHooks;
  /** Told of every actor this cell creates, so that inspection listeners hear it while they listen. */
  inspection?: Pick<Inspection, 'watch'>;
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

  readonly counters = { eventsIn: 0, eventsOut: 0, failedEvents: 0, fallbacks: 0, busyMs: 0, peakDepth: 0 };
  perEventMs = Number.NaN;

  /** Times the supervisor started a new incarnation after a crash (or a strategy stop). */
  restarts = 0;

  private readonly queue = new BatchQueue();
  /** Aborted when the incarnation is abandoned (crash, kill); every call sees it as `ctx.signal`. */
  private abort = new AbortController();
  private inFlight: Batch | undefined;
  private takenAt = 0;
  /** Monotonic ms since which events have waited with no call ending (meaningful while depth() > 0): for the health monitor's staleness. */
  private waitingSince = 0;
  private readonly ctx: MutableStageContext;
  private readonly log: Logger;
  private readonly machine: typeof stageMachine;
  private actor: Actor<typeof stageMachine>;
  private phase: CellPhase = 'new';
  private supervisor: ChildStartContext | undefined;
  /** Conditions someone waits for (`whenTrue`), checked after each step of the stage actor and when room frees. */
  private readonly conditions: Array<{ check: () => boolean; resolve: () => void }> = [];
  /** Injections (replayed dead letters) waiting for room in the mailbox. */
  private readonly roomWaiters: Array<() => void> = [];
  /** The failure that crashed the current incarnation. */
  private crash: unknown;
  /** Set while the open of an incarnation failed: that actor's end is a failed start, not the cell's. */
  private openFailed = false;
  private closing: Promise<void> | undefined;
  /** The state the next incarnation starts from instead of `initialState()` (swap, rebalance). */
  private startFrom: { state: unknown } | undefined;
  /** No new call starts while paused (a swap waits for the call in flight to end). */
  private paused = false;
  /** While gated, the mailbox takes nothing new: producers wait (a scale drains the group first). */
  private gated = false;

  // Checkpoints (with `hooks.barriers`).
  /** Barriers arrived per checkpoint version, until one came from every distinct producer. */
  private readonly arrivals = new Map<number, number>();
  /** Nodes fed a barrier that still wait for it on other inputs: no new call until they have it. */
  private stalls = 0;
  /** The state at the last barrier (or restore): where a restarted incarnation starts from. */
  private snapshot: { state: unknown } | undefined;
  /** Events processed since that state, replayed to a restarted incarnation; undefined once over the limit. */
  private replayLog: Batch[] | undefined = [];
  private logged = 0;
  /** Events at the front of the mailbox that are replays: their outputs were delivered before the restart. */
  private replaying = 0;
  private replayCall = false;
  private replayOverflows = 0;

  constructor(
    private config: CellConfig,
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
    this.machine = stageMachine.provide({
      actors: {
        open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(async () => {
          await this.config.open();
          const given = this.startFrom;
          this.startFrom = undefined;
          return { state: given === undefined ? this.config.initialState() : given.state };
        }),
        call: fromCall<StageCallOutput, StageCallInput>((input) => this.runCall(input)),
        close: fromPromise(async () => this.config.close()),
      },
      guards: {
        hasInput: () => this.hasInput(),
        hasCredit: () => this.hasCredit(),
        atBarrier: () => this.queue.marks > 0 && this.queue.headMark() !== undefined,
        upstreamEnded: ({ context }) => context.ended && this.queue.length === 0 && this.queue.marks === 0,
      },
      actions: {
        deliver: (_, params) => this.deliver(params.output as CallOutcome),
        passBarrier: (_, params) => this.passBarrier(params.state),
        reportFailure: (_, params) => this.reportFailure(params.error),
        reportLifecycleFailure: (_, params) => this.lifecycleFailed(params.phase, params.error),
      },
    });
    this.actor = this.newActor();
  }

  private newActor(): Actor<typeof stageMachine> {
    const actor = createActor(this.machine, {
      input: { stage: this.config.name, state: undefined, onFailure: this.config.onFailure, restartAfterFailures: this.config.restartAfterFailures ?? 10 },
      id: this.config.name,
    });
    this.hooks.inspection?.watch(this, actor);
    actor.subscribe({
      // Only while someone waits for a condition of this cell (a reshape): nothing per step otherwise.
      next: () => {
        if (this.conditions.length > 0) this.checkConditions();
      },
      complete: () => this.actorEnded(actor),
      error: (error) => {
        if (actor !== this.actor) return;
        this.failure = new SteadfastError('STAGE_CRASHED', `stage "${this.name}" crashed: ${messageOf(error)}`, { cause: error });
        this.finish();
      },
    });
    return actor;
  }

  // Supervision: the pipeline's supervisor starts, restarts and stops the cell through this child.

  /** Starts an incarnation for the supervisor (the first, or a restart); resolves once it opened, rejects if it failed to. */
  async launch(ctx: ChildStartContext): Promise<Child> {
    if (this.phase === 'done') throw new SteadfastError('STAGE_STOPPED', `stage "${this.name}" has finished; it cannot start again`);
    this.supervisor = ctx;
    if (this.phase !== 'new') {
      this.restarts++;
      this.prepareReplay();
    }
    const failure = await this.startIncarnation(this.phase !== 'new');
    if (failure !== undefined) throw failure;
    return {
      stop: () => this.halt(),
      kill: () => {
        this.abort.abort(new SteadfastError('STAGE_STOPPED', `stage "${this.name}" was killed by its supervisor`));
        void this.halt();
      },
      describe: (): ChildDescription => ({ id: this.name, type: 'worker', state: this.status(), restarts: this.restarts }),
    };
  }

  /**
   * Stops the incarnation for its supervisor (a strategy restart or an escalation): the events it
   * held go back to the mailbox, and what it opened (a sink's file) is closed.
   */
  private async halt(): Promise<void> {
    if (this.phase !== 'running') {
      if (this.phase === 'crashed') this.phase = 'halted';
      return;
    }
    this.phase = 'halted';
    this.requeueInFlight();
    this.actor.stop();
    await this.closeQuietly();
  }

  /** Runs the node's close (flush a sink), logging instead of throwing: used when an incarnation ends abnormally. */
  private closeQuietly(): Promise<void> {
    this.closing = (async () => {
      try {
        await this.config.close();
      } catch (error) {
        this.log.warn({ err: error }, `close failed: ${messageOf(error)}`);
      }
    })();
    return this.closing;
  }

  /** Resolves once a close started after an abnormal end (kill, halt, crash) has finished. */
  async closed(): Promise<void> {
    await this.closing;
  }

  private actorEnded(actor: Actor<typeof stageMachine>): void {
    if (actor !== this.actor) return;
    if (this.phase === 'halted' || this.phase === 'done') return;
    if (this.openFailed) return; // launch() reports it to the supervisor
    if (actor.getSnapshot().value === 'crashed') {
      this.phase = 'crashed';
      this.abort.abort(new SteadfastError('STAGE_CRASHED', `stage "${this.name}" crashed`));
      void this.closeQuietly().then(() => this.supervisor?.exited('error', this.crash));
      return;
    }
    this.finish();
  }

  /** The cell is done for good: tell the supervisor (a normal exit) and the pipeline. */
  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    for (const resume of this.roomWaiters.splice(0)) resume();
    this.supervisor?.exited('normal');
    this.hooks.onComplete(this);
  }

  /** Puts the events of an abandoned call back at the front of the mailbox (they are not lost: the next incarnation takes them). */
  private requeueInFlight(): void {
    const batch = this.inFlight;
    if (batch === undefined) return;
    this.inFlight = undefined;
    this.outlet.release(batch.values.length);
    this.queue.unshift(batch.values, batch.offsets);
  }

  /** Resolves once the actor has left `starting` (opened, or failed to). */
  async opened(): Promise<void> {
    try {
      await waitFor(this.actor, (snapshot) => snapshot.status !== 'active' || snapshot.value !== 'starting');
    } catch {
      // The actor crashed while opening: `failure` says why, and status() is 'failed'.
    }
  }

  /** Stops the cell for good at once, abandoning queued and in-flight events; returns how many. */
  kill(): number {
    const abandoned = this.depth();
    this.abort.abort(new SteadfastError('STOP_TIMEOUT', `stage "${this.name}" was abandoned`));
    const running = this.phase === 'running';
    this.phase = 'halted'; // the actor's end below is not a crash nor a normal end
    if (running) {
      this.actor.stop();
      void this.closeQuietly();
    }
    this.finish();
    return abandoned;
  }

  /** The machine's current state. */
  status(): StageStateValue {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status === 'error') return 'failed';
    if (this.phase === 'crashed' || this.phase === 'halted') return 'crashed';
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

  /** Events a restarted incarnation replays (queued, or in a replay call): kept apart from the mailbox's own. */
  get replays(): number {
    return this.replaying;
  }

  /** How long events have waited here (mailbox or call) since the oldest arrived or a call last ended, whichever is later; null when none waits. */
  waitingMs(): number | null {
    return this.depth() === 0 ? null : Math.max(0, this.hooks.clock.monotonic() - this.waitingSince);
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

  /** The cells a variant's failed events go to (the main node's): their input ends after this cell's. */
  fallbackTargets: readonly NodeCell[] = [];

  /** Makes this a variant stage: the events its calls fail on go to `fallback` (the main stage, `targets`), and it resumes. */
  fallBackTo(fallback: (values: unknown[], offsets: number[]) => void, targets: readonly NodeCell[]): void {
    this.fallbackTargets = targets;
    this.config = { ...this.config, fallback, onFailure: 'resume', restartAfterFailures: 0 };
    if (this.phase === 'new') this.actor = this.newActor(); // made before: its input had the stage's own policy
  }

  // Control for pipeline.scale() and pipeline.swap().

  /** Stops (or lets again) producers put new events in this mailbox. */
  gate(closed: boolean): void {
    this.gated = closed;
    if (!closed) this.roomFreed();
  }

  /** Stops (or lets again) this stage start new calls; queued events wait. */
  pause(paused: boolean): void {
    this.paused = paused;
    if (!paused && this.queue.length > 0 && this.status() === 'idle') this.send({ type: 'steadfast.stage.input' });
  }

  /** No call in flight. */
  settled(): boolean {
    return this.inFlight === undefined && this.status() !== 'busy';
  }

  /** The stage's retry, breaker and degraded mode (undefined for a stage without them). */
  guards(): StageGuards | undefined {
    return this.config.guards;
  }

  /** Nothing queued or in a call: the stage holds no event (what producers still deliver is held back by their outlets). */
  drained(): boolean {
    return this.queue.length === 0 && this.settled();
  }

  /**
   * Replaces the running incarnation by a new one that starts from `state` (and, for a swap, runs
   * `config`'s logic), keeping the mailbox. Call it with no call in flight (`settled()`).
   */
  async respawn(state: { state: unknown }, config?: Pick<CellConfig, 'initialState' | 'runner' | 'open' | 'close' | 'onFailure' | 'guards'>): Promise<void> {
    if (this.phase !== 'running') throw new SteadfastError('PIPELINE_STATE_INVALID', `stage "${this.name}" is not running; it cannot be replaced`);
    this.phase = 'halted';
    this.actor.stop();
    await this.closeQuietly();
    if (config !== undefined) this.config = { ...this.config, ...config };
    this.startFrom = state;
    this.restartPoint(state.state);
    const failure = await this.startIncarnation(true);
    if (failure !== undefined) {
      // The supervisor takes it from here, as for any crash: restarts, or gives up.
      this.supervisor?.exited('error', failure);
      throw failure;
    }
  }

  /** Starts an incarnation (a fresh actor and abort signal unless it is the first) and waits for its open; the open's failure, if any. */
  private async startIncarnation(fresh: boolean): Promise<SteadfastError | undefined> {
    if (fresh) {
      this.abort = new AbortController();
      this.ctx.signal = this.abort.signal;
      this.actor = this.newActor();
    }
    this.phase = 'running';
    this.openFailed = false;
    this.actor.start();
    if (this.inputs > 0 && this.inputsEnded >= this.inputs) this.send({ type: 'steadfast.stage.end' });
    await this.opened();
    if (!this.openFailed) return undefined;
    this.phase = 'crashed';
    return this.failure ?? new SteadfastError('STAGE_OPEN_FAILED', `${this.kind} "${this.name}" failed to open`);
  }

  // Inlet: what producers see.

  free(): number {
    if (this.gated) return 0;
    return this.capacity - this.queue.length - (this.inFlight?.values.length ?? 0) - this.reserved;
  }

  enqueue(values: unknown[], offsets: number[]): void {
    if (this.depth() === 0) this.waitingSince = this.hooks.clock.monotonic();
    this.queue.push(values, offsets);
    const flow = this.hooks.flow;
    flow.buffered += values.length;
    if (flow.buffered > flow.peak) flow.peak = flow.buffered;
    const depth = this.queue.length - this.replaying;
    if (depth > this.counters.peakDepth) this.counters.peakDepth = depth;
    const snapshot = this.actor.getSnapshot();
    if (snapshot.value === 'idle' && snapshot.status === 'active') this.actor.send({ type: 'steadfast.stage.input' });
  }

  // Checkpoint barriers.

  get alignsInputs(): boolean {
    return distinctCount(this.producers) > 1;
  }

  enqueueBarrier(barrier: Barrier): void {
    this.queue.pushMark(barrier);
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status === 'active' && (snapshot.value === 'idle' || snapshot.value === 'blocked')) this.actor.send({ type: 'steadfast.stage.input' });
  }

  barrierReleased(): void {
    if (this.stalls > 0 && --this.stalls === 0) this.send({ type: 'steadfast.stage.input' });
  }

  /** Starts the next incarnation from `state` (a restored checkpoint) instead of `initialState()`. */
  restoreFrom(state: unknown): void {
    this.startFrom = { state };
    this.restartPoint(state);
  }

  /**
   * From now on a restart starts from `state`, replaying what this node processes after it. The
   * state is copied: a stage that updates its state in place must not change its snapshot.
   */
  private restartPoint(state: unknown, copied = false): void {
    if (this.hooks.barriers === undefined || this.kind !== 'stage') return;
    this.snapshot = { state: copied ? state : this.copy(state) };
    this.replayLog = [];
    this.logged = 0;
  }

  /** A deep copy (structured clone); a state that cannot be cloned is kept as is, with a warning. */
  private copy(state: unknown): unknown {
    if (state === null || typeof state !== 'object') return state;
    try {
      return structuredClone(state);
    } catch (error) {
      this.log.warn({ err: error }, `stage state cannot be copied (${messageOf(error)}): its snapshot shares the live object, so updating it in place changes the snapshot`);
      return state;
    }
  }

  /**
   * The machine reached a barrier (nothing before it left in the mailbox, no call in flight), with
   * the state every earlier event built. Once it came from every input, the node snapshots and
   * passes the barrier on; with alignment it then waits until the nodes it fed have it from all
   * their inputs too.
   */
  private passBarrier(state: unknown): void {
    this.takeBarrier(state);
    // XState runs this action after its step, so the machine has not seen the barrier leave: tell it.
    this.send({ type: 'steadfast.stage.input' });
  }

  private takeBarrier(state: unknown): void {
    const barrier = this.queue.shiftMark() as Barrier | undefined;
    const hooks = this.hooks.barriers;
    if (hooks === undefined || barrier === undefined) return;
    const expected = distinctCount(this.producers);
    const arrived = (this.arrivals.get(barrier.version) ?? 0) + 1;
    if (arrived < expected) {
      this.arrivals.set(barrier.version, arrived);
      return;
    }
    this.arrivals.delete(barrier.version);
    // A copy now: the write happens later, and the stage may update its state in place meanwhile.
    const snapshot = this.kind === 'stage' ? this.copy(state) : undefined;
    this.restartPoint(snapshot, true);
    hooks.reached(this, barrier, snapshot);
    if (hooks.aligned && expected > 1) for (const producer of new Set(this.producers)) producer.barrierReleased();
    // Counted before sending: a node downstream may align, and release this one, during the send.
    if (hooks.aligned) this.stalls += this.outlet.aligningInlets();
    this.outlet.broadcastBarrier(barrier);
  }

  /** Keeps processed events for a replay after a restart, up to the limit. */
  private remember(values: unknown[], offsets: number[]): void {
    const log = this.replayLog;
    const hooks = this.hooks.barriers;
    if (log === undefined || hooks === undefined || this.kind !== 'stage' || values.length === 0) return;
    this.logged += values.length;
    if (this.logged > hooks.replayLimit) {
      this.replayLog = undefined;
      // Once at warn level: with checkpoints further apart than the limit it happens between every two.
      const level = this.replayOverflows++ === 0 ? 'warn' : 'debug';
      this.log[level]({ replayLimit: hooks.replayLimit }, 'more events since the last checkpoint than the replay limit: until the next one, a restart starts from the last state instead of the snapshot');
      return;
    }
    log.push({ values, offsets });
  }

  /**
   * Before a restart: the new incarnation starts from the last snapshot, and the events processed
   * since are put back at the front of the mailbox to be replayed (outputs dropped). Without a
   * replay log (over the limit) it starts from the state the last incarnation had.
   */
  private prepareReplay(): void {
    if (this.hooks.barriers === undefined || this.kind !== 'stage') return;
    const log = this.replayLog;
    if (log === undefined) {
      this.startFrom = { state: this.actor.getSnapshot().context.state };
      this.restartPoint(this.startFrom.state);
      return;
    }
    // A copy again: the snapshot must survive the new incarnation updating its state in place.
    if (this.snapshot !== undefined) this.startFrom = { state: this.copy(this.snapshot.state) };
    this.replayLog = [];
    this.logged = 0;
    for (let i = log.length - 1; i >= 0; i--) {
      const { values, offsets } = log[i] as Batch;
      this.queue.unshift(values, offsets);
      this.hooks.flow.buffered += values.length;
      this.replaying += values.length;
    }
  }

  private hasInput(): boolean {
    if (this.queue.length === 0 || this.paused || this.stalls > 0) return false;
    return this.queue.marks === 0 || this.queue.beforeMark() > 0;
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

  private runCall({ state, failuresInRow, failurePolicy }: StageCallInput): CallOutcome | Promise<CallOutcome> {
    this.ctx.failuresInRow = failuresInRow;
    this.ctx.failurePolicy = failurePolicy;
    let n = Math.max(0, Math.min(this.wantSize(), this.outlet.minFree()));
    if (this.replaying > 0) {
      // Replays run in calls of their own, so that their outputs can be told apart and dropped.
      n = Math.min(n, this.replaying);
      this.replayCall = true;
    }
    const batch = this.queue.take(n);
    this.inFlight = batch;
    this.outlet.reserve(batch.values.length);
    this.takenAt = this.hooks.clock.monotonic();
    if (batch.values.length === 0) return { state, values: [], offsets: [] };
    return this.config.runner(batch, state, this.ctx);
  }

  /** Ends the call in flight: timing, and the events it held leave the buffered count. */
  private finishCall(ok: boolean, failed = 0): Batch {
    const batch = this.inFlight ?? { values: [], offsets: [] };
    const n = batch.values.length;
    this.inFlight = undefined;
    this.hooks.flow.buffered -= n;
    const ended = this.hooks.clock.monotonic();
    this.waitingSince = ended; // what still waits (or is put back) has waited since a call last ended
    const ms = ended - this.takenAt;
    this.perEventMs = updatePerEventMs(this.perEventMs, ms, n);
    this.counters.busyMs += ms;
    const observers = this.hooks.observers;
    // Nothing is allocated unless someone listens: this runs once per call.
    if (observers !== undefined && observers.size > 0) observers.emit({ type: 'steadfast.stage.call', stage: this.name, group: this.group, events: n, ms, ok, failed: ok ? failed : n });
    return batch;
  }

  private deliver(output: CallOutcome): void {
    const batch = this.finishCall(true, output.failures?.length ?? 0);
    const replay = this.replayCall;
    if (replay) {
      // A replay after a restart: the state is rebuilt, the outputs were delivered the first time.
      this.replayCall = false;
      this.replaying -= batch.values.length;
    } else {
      this.counters.eventsIn += batch.values.length;
      this.counters.eventsOut += output.values.length;
      // Outputs go into the room reserved for them before the reservation is given back.
      this.outlet.route(output.values, output.offsets);
    }
    const failures = output.failures;
    if (failures === undefined) this.remember(batch.values, batch.offsets);
    else this.resumedPast(batch, failures, replay);
    this.outlet.release(batch.values.length);
    forget(output, batch);
    this.roomFreed();
  }

  /**
   * A call that went on past failed events (`onFailure: 'resume'`): each is reported, and only the
   * events that succeeded are kept for a replay (they built the state; the failed ones did not).
   */
  private resumedPast(batch: Batch, failures: readonly CallFailure[], replay: boolean): void {
    if (!replay) this.counters.failedEvents += failures.length;
    if (this.replayLog === undefined || this.hooks.barriers === undefined || this.kind !== 'stage') {
      // No replay log to keep (no checkpoints, or over its limit): only the reports.
      for (const { error } of failures) this.failed(replay ? this.replayFailed(error) : error);
      return;
    }
    const values: unknown[] = [];
    const offsets: number[] = [];
    let next = 0;
    for (const { index, error } of failures) {
      for (let i = next; i < index; i++) {
        values.push(batch.values[i]);
        offsets.push(batch.offsets[i] as number);
      }
      next = index + 1;
      this.failed(replay ? this.replayFailed(error) : error);
    }
    for (let i = next; i < batch.values.length; i++) {
      values.push(batch.values[i]);
      offsets.push(batch.offsets[i] as number);
    }
    this.remember(values, offsets);
  }

  private reportFailure(error: unknown): void {
    const batch = this.finishCall(false);
    const replay = this.replayCall;
    this.replayCall = false;
    if (error instanceof BatchFailure) {
      const { committed, rest } = error;
      const processed = batch.values.length - rest.values.length;
      if (replay) this.replaying -= processed;
      else {
        this.counters.eventsOut += committed.values.length;
        this.outlet.route(committed.values, committed.offsets);
      }
      // The events before the failing ones built the state the machine keeps (but those the call went on past).
      const kept = processed - error.error.events.length;
      const prefix = { values: batch.values.slice(0, kept), offsets: batch.offsets.slice(0, kept) };
      if (committed.failures !== undefined) this.resumedPast(prefix, committed.failures, replay);
      else if (kept > 0) this.remember(prefix.values, prefix.offsets);
      if (rest.values.length > 0) {
        this.queue.unshift(rest.values, rest.offsets);
        this.hooks.flow.buffered += rest.values.length;
      }
      if (!replay) {
        this.counters.eventsIn += batch.values.length - rest.values.length;
        this.counters.failedEvents += error.error.events.length;
      }
      this.crash = replay ? this.replayFailed(error.error) : error.error;
      this.failed(this.crash as StageCallError);
    } else {
      if (replay) this.replaying -= batch.values.length;
      else {
        this.counters.eventsIn += batch.values.length;
        this.counters.failedEvents += batch.values.length;
      }
      // A timeout or a crash of a thread stage keeps its own code; anything else is a failed call.
      const failed =
        error instanceof StageCallError
          ? error
          : new StageCallError('STAGE_CALL_FAILED', this.name, `stage "${this.name}" failed on ${batch.values.length} events: ${messageOf(error)}`, { offsets: batch.offsets, events: batch.values }, error);
      this.crash = replay ? this.replayFailed(failed) : failed;
      this.failed(this.crash as StageCallError);
    }
    this.outlet.release(batch.values.length);
    forget(error instanceof BatchFailure ? error.committed : undefined, batch);
    this.roomFreed();
  }

  /**
   * A call failed while replaying after a restart: those events were handled before it, and their
   * outputs delivered, so they are not failed events; but the rebuilt state lacks their effect.
   */
  private replayFailed(error: StageCallError): StageCallError {
    const at = error.offsets.length === 1 ? `offset ${error.offsets[0]}` : `offsets ${error.offsets[0]}..${error.offsets[error.offsets.length - 1]}`;
    const message = `stage "${this.name}" failed at ${at} while replaying after a restart (their outputs were delivered before it; the rebuilt state lacks their effect): ${messageOf(error.cause ?? error)}`;
    return new StageCallError('STAGE_REPLAY_FAILED', this.name, message, error, error);
  }

  /** A failed call's events: reported, or for a variant stage sent back to the main stage. */
  private failed(error: StageCallError): void {
    const fallback = this.config.fallback;
    if (fallback === undefined) {
      this.hooks.report(error, this.log);
      return;
    }
    this.counters.fallbacks += error.events.length;
    this.log.warn({ err: error, events: error.events.length }, `variant failed; ${error.events.length} events fall back to the main stage`);
    fallback([...error.events], [...error.offsets]);
  }

  private lifecycleFailed(phase: 'open' | 'close', error: unknown): void {
    if (phase === 'open') this.openFailed = true;
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
    if (this.roomWaiters.length > 0 && this.hasRoom()) for (const resume of this.roomWaiters.splice(0)) resume();
    if (this.conditions.length > 0) this.checkConditions();
  }

  /**
   * Resolves once `check()` holds (at once if it does): checked after every step of the stage
   * actor and whenever room frees, so a reshape waits for a node to drain or settle without polling.
   */
  whenTrue(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.conditions.push({ check, resolve }));
  }

  private checkConditions(): void {
    for (let i = this.conditions.length - 1; i >= 0; i--) {
      const condition = this.conditions[i] as { check: () => boolean; resolve: () => void };
      if (!condition.check()) continue;
      this.conditions.splice(i, 1);
      condition.resolve();
    }
  }

  /**
   * Resolves once the mailbox holds fewer events than its capacity (at once if it does), or the
   * cell is done. Room producers have reserved does not count against it: a source waiting for its
   * next events holds a reservation as long as it waits, and a replay must not wait for it.
   */
  whenRoom(): Promise<void> {
    if (this.hasRoom() || this.phase === 'done') return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private hasRoom(): boolean {
    return !this.gated && this.depth() - this.replaying < this.capacity;
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
