import type { Logger } from 'pino';
import type { stageMachine, StageMachineEvent, StageStateValue } from '../../machines/stage.machine.js';
import { createStageActor, opened, stageLogic, type StageActor } from './stage-actor.js';
import type { Child, ChildDescription, ChildStartContext } from '../supervision/child.js';
import { SteadfastError, messageOf } from '../core/errors.js';
import { newId } from '../ids.js';
import type { Outlet, Inlet } from './outlet.js';
import type { Producer } from './producer.js';
import type { MutableStageContext } from '../stage/run-call.js';
import type { StageGuards } from './resilient-runner.js';
import { distinctCount, type Barrier } from '../checkpointing/barrier.js';
import { Mailbox } from './mailbox.js';
import { CellCheckpoints } from './cell-checkpoints.js';
import type { CallLedger } from './call-ledger.js';
import { CallDispatch } from './call-dispatch.js';
import { Conditions } from './conditions.js';
import { Incarnations } from './incarnations.js';
import type { CellConfig, CellHooks } from './cell-config.js';

export type { CellConfig, CellHooks } from './cell-config.js';

/**
 * The runtime of one node instance: its mailbox, its calls, its restart point, and the XState actor
 * (the stage machine) that decides. The cell reports the mailbox's facts to the machine with every
 * event, and carries out what the machine decides (start a call, pass a barrier, open, close).
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
  outlet!: Outlet;
  /** The cells a variant's failed events go to (the main node's): their input ends after this cell's. */
  fallbackTargets: readonly NodeCell[] = [];

  readonly mailbox: Mailbox;
  /** The calls: in flight, their ends, counts and timings. */
  readonly ledger: CallLedger;
  private readonly dispatch: CallDispatch;
  /** Barriers and the restart point, under checkpoints. */
  private readonly checkpoints: CellCheckpoints | undefined;
  private readonly lives: Incarnations<StageActor>;
  private readonly ctx: MutableStageContext;
  private readonly log: Logger;
  private readonly machine: typeof stageMachine;
  /** The state the next incarnation starts from instead of `initialState()` (a restore, swap, rebalance, replay). */
  private startFrom: { state: unknown } | undefined;
  /** Conditions someone waits for (`whenTrue`), checked after each step of the stage actor and when room frees. */
  private readonly conditions = new Conditions();

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
    this.mailbox = new Mailbox(config.capacity, hooks.clock, hooks.flow);
    this.ctx = { stage: config.name, offset: 0, offsets: [], signal: new AbortController().signal, log: this.log };
    const barriers = hooks.barriers;
    this.checkpoints =
      barriers === undefined
        ? undefined
        : new CellCheckpoints({
            node: this,
            mailbox: this.mailbox,
            producers: this.producers,
            outlet: () => this.outlet,
            hooks: barriers,
            log: this.log,
            mailboxChanged: () => this.notify('steadfast.stage.input'),
          });
    this.dispatch = new CallDispatch({
      name: config.name,
      group: config.group,
      mailbox: this.mailbox,
      outlet: () => this.outlet,
      replayLog: this.checkpoints?.replayLog,
      clock: hooks.clock,
      observers: hooks.observers,
      log: this.log,
      report: (error) => this.hooks.report(error, this.log),
      fallback: () => this.config.fallback,
      runner: () => this.config.runner,
      ordered: () => this.config.ordered,
      concurrency: () => this.config.concurrency,
      ctx: this.ctx,
      maxBatch: config.maxBatch,
      targetBatchMs: config.targetBatchMs,
      stalls: () => this.checkpoints?.stalls ?? 0,
      send: (event) => this.send(event),
      roomFreed: () => this.roomFreed(),
      failedWith: (failure) => {
        this.lives.lastFailure = failure;
      },
    });
    this.ledger = this.dispatch.ledger;
    this.machine = stageLogic({
      open: async () => {
        await this.config.open();
        const given = this.startFrom;
        this.startFrom = undefined;
        return { state: given === undefined ? this.config.initialState() : given.state };
      },
      close: () => this.config.close(),
      startCall: (input) => this.dispatch.start(input),
      passBarrier: (state) => this.passBarrier(state),
      lifecycleFailed: (phase, error) => this.lives.lifecycleFailed(phase, error, this.kind),
    });
    this.lives = new Incarnations<StageActor>(this.name, {
      newActor: () => this.newActor(),
      start: (actor) => {
        this.ctx.signal = this.lives.signal;
        actor.start();
        // The machine learns of its mailbox (replays, events that waited) and of an end that came before.
        this.notify('steadfast.stage.input');
        if (this.inputs > 0 && this.inputsEnded >= this.inputs) this.notify('steadfast.stage.end');
      },
      opened,
      abandonCalls: () => this.ledger.abandon(),
      close: () => this.config.close(),
      finished: () => {
        this.mailbox.wakeRoomWaiters(true);
        this.hooks.onComplete(this);
      },
      log: this.log,
    });
  }

  private newActor(): StageActor {
    const { config } = this;
    const input = { stage: config.name, state: undefined, onFailure: config.onFailure, restartAfterFailures: config.restartAfterFailures ?? 10, concurrency: config.concurrency };
    const actor = createStageActor(this.machine, input, {
      // Only while someone waits for a condition of this cell (a reshape): nothing per step otherwise.
      step: () => {
        if (this.conditions.size > 0) this.conditions.check();
      },
      ended: (ended) => this.lives.actorEnded(ended),
      failed: (failed, error) => this.lives.actorFailed(failed, new SteadfastError('STAGE_CRASHED', `stage "${this.name}" crashed: ${messageOf(error)}`, { cause: error })),
    });
    this.hooks.inspection?.watch(this, actor);
    return actor;
  }

  // Supervision: the pipeline's supervisor starts, restarts and stops the cell through this child.

  /** Starts an incarnation for the supervisor (the first, or a restart); resolves once it opened, rejects if it failed to. */
  async launch(ctx: ChildStartContext): Promise<Child> {
    if (this.lives.restarting()) this.startFrom = this.checkpoints?.prepareRestart(this.stageState()) ?? this.startFrom;
    await this.lives.launch(ctx);
    return {
      stop: () => this.lives.halt(),
      kill: () => this.lives.kill(new SteadfastError('STAGE_STOPPED', `stage "${this.name}" was killed by its supervisor`)),
      describe: (): ChildDescription => ({ id: this.name, type: 'worker', state: this.status(), restarts: this.restarts }),
    };
  }

  /** Times the supervisor started a new incarnation after a crash (or a strategy stop). */
  get restarts(): number {
    return this.lives.restarts;
  }

  /** The error that ended the cell in `failed` (open or close failed, or the actor crashed). */
  get failure(): SteadfastError | undefined {
    return this.lives.failure;
  }

  /** Resolves once a close started after an abnormal end (kill, halt, crash) has finished. */
  closed(): Promise<void> {
    return this.lives.closed();
  }

  /** Stops the cell for good at once, abandoning queued and in-flight events; returns how many. */
  kill(): number {
    const abandoned = this.depth();
    this.lives.abandon(new SteadfastError('STOP_TIMEOUT', `stage "${this.name}" was abandoned`));
    return abandoned;
  }

  /** The machine's current state ('crashed' for an incarnation its supervisor stopped or will restart). */
  status(): StageStateValue {
    const snapshot = this.lives.actor.getSnapshot();
    if (snapshot.status === 'error') return 'failed';
    if (this.lives.down()) return 'crashed';
    return snapshot.value as StageStateValue;
  }

  /** The stage's state after its last successful call. */
  stageState(): unknown {
    return this.lives.actor.getSnapshot().context.state;
  }

  /** Calls made and calls failed, from the machine's context. */
  calls(): { calls: number; failedCalls: number } {
    const { calls, failedCalls } = this.lives.actor.getSnapshot().context;
    return { calls, failedCalls };
  }

  /** Events queued or in a call. */
  depth(): number {
    return this.mailbox.depth();
  }

  /** Ends the input at once, whatever upstream does: the stage drains its mailbox and stops. */
  endNow(): void {
    this.notify('steadfast.stage.end');
  }

  /** One more upstream finished; after the last, the stage drains and stops. */
  inputEnded(): void {
    this.inputsEnded++;
    if (this.inputsEnded >= this.inputs) this.notify('steadfast.stage.end');
  }

  /** Makes this a variant stage: the events its calls fail on go to `fallback` (the main stage, `targets`), and it resumes. */
  fallBackTo(fallback: (values: unknown[], offsets: number[]) => void, targets: readonly NodeCell[]): void {
    this.fallbackTargets = targets;
    this.config = { ...this.config, fallback, onFailure: 'resume', restartAfterFailures: 0 };
    this.lives.renew(); // made before: its input had the stage's own policy
  }

  // Control for pipeline.scale() and pipeline.swap().

  /** Stops (or lets again) producers put new events in this mailbox. */
  gate(closed: boolean): void {
    this.mailbox.gated = closed;
    if (!closed) this.roomFreed();
  }

  /** Stops (or lets again) this stage start new calls; queued events wait. */
  pause(paused: boolean): void {
    this.mailbox.paused = paused;
    if (!paused) this.notify('steadfast.stage.input');
  }

  /** No call in flight. */
  settled(): boolean {
    return this.ledger.inFlight.size === 0 && this.status() !== 'busy';
  }

  /** The stage's retry, breaker and degraded mode (undefined for a stage without them). */
  guards(): StageGuards | undefined {
    return this.config.guards;
  }

  /** Nothing queued or in a call: the stage holds no event (what producers still deliver is held back by their outlets). */
  drained(): boolean {
    return this.mailbox.queue.length === 0 && this.settled();
  }

  /**
   * Replaces the running incarnation by a new one that starts from `state` (and, for a swap, runs
   * `config`'s logic), keeping the mailbox. Call it with no call in flight (`settled()`).
   */
  async respawn(state: { state: unknown }, config?: Pick<CellConfig, 'initialState' | 'runner' | 'open' | 'close' | 'onFailure' | 'guards' | 'concurrency' | 'ordered'>): Promise<void> {
    await this.lives.replace(() => {
      if (config !== undefined) this.config = { ...this.config, ...config };
      this.startFrom = state;
      this.checkpoints?.replayLog?.restartPoint(state.state);
    });
  }

  // Inlet: what producers see.

  get reserved(): number {
    return this.mailbox.reserved;
  }

  set reserved(n: number) {
    this.mailbox.reserved = n;
  }

  free(): number {
    return this.mailbox.free();
  }

  enqueue(values: unknown[], offsets: number[]): void {
    this.mailbox.push(values, offsets);
    // While busy at full concurrency the machine hears of its mailbox when a call ends.
    if (this.listening(false)) this.notify('steadfast.stage.input');
  }

  // Checkpoint barriers.

  get alignsInputs(): boolean {
    return distinctCount(this.producers) > 1;
  }

  enqueueBarrier(barrier: Barrier): void {
    this.mailbox.pushBarrier(barrier);
    if (this.listening(true)) this.notify('steadfast.stage.input');
  }

  barrierReleased(): void {
    this.checkpoints?.barrierReleased();
  }

  /** Starts the next incarnation from `state` (a restored checkpoint) instead of `initialState()`. */
  restoreFrom(state: unknown): void {
    this.startFrom = { state };
    this.checkpoints?.replayLog?.restartPoint(state);
  }

  /** The machine passed the barrier at the head of the mailbox, with the state every earlier event built. */
  private passBarrier(state: unknown): void {
    if (this.checkpoints !== undefined) this.checkpoints.passBarrier(state);
    else {
      this.mailbox.shiftBarrier();
      this.notify('steadfast.stage.input');
    }
  }

  // Producer: how the nodes this one feeds wake it.

  /** Waiting for room downstream: blocked, or busy with concurrency to spare and input waiting. */
  isBlocked(): boolean {
    const snapshot = this.lives.actor.getSnapshot();
    if (snapshot.value === 'blocked') return true;
    return snapshot.value === 'busy' && snapshot.context.inFlight < snapshot.context.concurrency && this.mailbox.ready() > 0;
  }

  canTake(): boolean {
    return this.mailbox.queue.length > 0 && this.dispatch.hasCredit();
  }

  wake(): void {
    this.notify('steadfast.stage.credit');
  }

  /** Whether the machine acts on a report of its mailbox now (it hears of it anyway when a call ends). */
  private listening(barrier: boolean): boolean {
    const snapshot = this.lives.actor.getSnapshot();
    if (snapshot.status !== 'active') return false;
    const value = snapshot.value;
    if (value === 'idle' || value === 'starting') return true;
    if (value === 'blocked') return barrier;
    return value === 'busy' && snapshot.context.inFlight < snapshot.context.concurrency;
  }

  /** Sends the machine an event with the mailbox as it is now, unless it has finished. */
  private notify(type: 'steadfast.stage.input' | 'steadfast.stage.credit' | 'steadfast.stage.end'): void {
    this.send({ type, mailbox: this.dispatch.view() });
  }

  private send(event: StageMachineEvent): void {
    const actor = this.lives.actor;
    if (actor.getSnapshot().status === 'active') actor.send(event);
  }

  /** Room in this mailbox was freed (a call ended, or a producer gave back a reservation): wake producers waiting for it. */
  roomFreed(): void {
    for (let i = 0; i < this.producers.length; i++) {
      const producer = this.producers[i] as Producer;
      if (producer.isBlocked() && producer.canTake()) producer.wake();
    }
    this.mailbox.wakeRoomWaiters();
    if (this.conditions.size > 0) this.conditions.check();
  }

  /**
   * Resolves once `check()` holds (at once if it does): checked after every step of the stage
   * actor and whenever room frees, so a reshape waits for a node to drain or settle without polling.
   */
  whenTrue(check: () => boolean): Promise<void> {
    return this.conditions.when(check);
  }

  /**
   * Resolves once the mailbox holds fewer events than its capacity (at once if it does), or the
   * cell is done. Room producers have reserved does not count against it: a source waiting for its
   * next events holds a reservation as long as it waits, and a replay must not wait for it.
   */
  whenRoom(): Promise<void> {
    return this.mailbox.whenRoom(() => this.lives.isDone());
  }
}
