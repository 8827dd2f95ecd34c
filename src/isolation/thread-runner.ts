import type { Logger } from 'pino';
import type { Batch } from '../core/batch-queue.js';
import { messageOf, type SteadfastError, type StageCallError } from '../core/errors.js';
import type { CallOutcome, CallRunner } from '../stage/run-call.js';
import type { AnyStage } from '../stage.js';
import type { CallPosition } from './call-progress.js';
import { callError, lostCall, refusedCall, span, workerErrorReason, type Down, type Downfall } from './down-failure.js';
import { LateAnswers } from './late-answers.js';
import { bury } from './worker-death.js';
import { PendingCalls } from './pending-calls.js';
import type { HostMessage, WorkerMessage } from './protocol.js';
import { causeError, cloneFailure, settleCall, type PendingCall } from './worker-answer.js';
import { openFailure } from './worker-spawn.js';
import { ThreadWorker } from './thread-worker.js';
import { DEFAULT_OPEN_TIMEOUT_MS, threadStage, type ThreadRunnerOptions } from './thread-runner-options.js';
import { openingWithin, type ThreadRunnerLife } from './thread-runner-life.js';

export type { ThreadRunnerOptions } from './thread-runner-options.js';
export type { ThreadCallErrorCode } from './down-failure.js';

/**
 * Runs the calls of one stage node in a worker thread (`isolation: 'thread'`), so that a call stuck
 * in synchronous code can be stopped by the stage's `timeoutMs` (the worker is terminated) and a
 * stage that exhausts its `resourceLimits` dies alone. The worker imports `stage.module`, finds
 * the exported stage by name and runs it with `stageRunner`: per-event semantics (state, outputs,
 * BatchFailure with the committed prefix and the rest) are those of an inline stage.
 *
 * The worker records, in memory shared with the host, which event of which call it is running
 * (`call-progress.ts`). A call whose event hangs past `timeoutMs` (each event has that long; a
 * `processBatch` call as a whole), or during which the worker dies, fails with a BatchFailure for
 * that event alone: `committed` is the state the call started from with no outputs (what the
 * events before it computed died with the worker), `rest` the other events of the batch, in order,
 * to be run again. When the event cannot be known (a `processBatch` call, a worker stuck or dying
 * outside any event) the call fails as a whole with a StageCallError.
 *
 * After a timeout or a crash the worker is gone; the next `run()` starts a fresh one (a new import of
 * the module) before it sends its call, and a call whose worker cannot be started again fails with
 * STAGE_CRASHED for its own offsets (the one after it tries again). Before `start()` and after
 * `stop()`, `run()` rejects at once with STAGE_STOPPED.
 *
 * @example
 * const runner = new ThreadRunner({ stage, node: stage.name, log });
 * await runner.start();
 * const { state, values, offsets } = await runner.run({ values: [1, 2], offsets: [0, 1] }, stage.initialState());
 * await runner.stop();
 */
export class ThreadRunner {
  readonly stage: AnyStage;
  readonly node: string;
  /** `run` as a {@link CallRunner} (the context argument is ignored: the worker makes its own). */
  readonly call: CallRunner;

  private readonly log: Logger;
  private readonly openTimeoutMs: number;
  private readonly onCrash: ((error: StageCallError) => void) | undefined;
  /** Where the runner is: down, starting or up, with what each phase has (its worker, its opening, why it is down). */
  private life: ThreadRunnerLife;
  /** The start in progress, shared by the `start()` calls made meanwhile (it waits for the last worker's exit first). */
  private starting: Promise<void> | undefined;
  /** Settles when the last worker has exited (after terminate). */
  private exited: Promise<void> = Promise.resolve();
  private readonly pending = new PendingCalls();
  private readonly late = new LateAnswers();
  /** Counts stop() calls, so that a start() waiting for the previous worker to exit sees a stop in between. */
  private stops = 0;

  constructor(options: ThreadRunnerOptions) {
    const { node } = options;
    const stage = threadStage(options.stage);
    this.stage = stage;
    this.node = node;
    const bindings = options.log.bindings();
    this.log = bindings.stage === undefined ? options.log.child({ stage: node }) : options.log;
    this.openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.onCrash = options.onCrash;
    this.life = { phase: 'down', down: { code: 'STAGE_STOPPED', message: `stage "${node}" has not been started in its worker thread`, cause: undefined, respawn: false } };
    this.call = (batch, state) => this.run(batch, state);
  }

  /** True when the worker is up and takes calls. */
  get running(): boolean {
    return this.life.phase === 'up';
  }

  /**
   * Spawns the worker, which imports the stage's module and finds the stage. Rejects with
   * STAGE_OPEN_FAILED when the module cannot be imported, exports no such stage, or the worker does
   * not come up within `openTimeoutMs`. Does nothing while the worker is up; after a crash, starts
   * a new one.
   */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    if (this.life.phase === 'up') return Promise.resolve();
    const starting = this.spawn().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  /**
   * Runs one call in the worker: the batch and the state go there by structured clone, the outcome
   * comes back the same way. After a timeout or a crash it first starts a new worker. Rejects with
   * a BatchFailure as an inline stage would (also for an event that timed out or crashed the worker:
   * STAGE_TIMEOUT or STAGE_CRASHED for that event), or with a StageCallError for the whole batch:
   * STAGE_TIMEOUT or STAGE_CRASHED when the event is not known, STAGE_CRASHED when no new worker
   * could be started for it, STAGE_STOPPED (not started, stopped, or stopped during the call),
   * STAGE_CALL_FAILED (something cannot be cloned).
   */
  run(batch: Batch, state: unknown): Promise<CallOutcome> {
    const life = this.life;
    if (life.phase !== 'up' && life.down.respawn) return this.respawn(batch, state);
    return this.send(batch, state);
  }

  /** Sends a call to the worker, or rejects at once when it is not up. */
  private send(batch: Batch, state: unknown): Promise<CallOutcome> {
    const life = this.life;
    if (life.phase !== 'up') return Promise.reject(refusedCall(life.down, this.node, batch));
    const { worker } = life;
    const id = this.pending.nextId();
    const message: HostMessage = { type: 'call', id, batch: { values: batch.values, offsets: batch.offsets }, state };
    try {
      worker.post(message);
    } catch (error) {
      return Promise.reject(cloneFailure(this.node, batch, state, error));
    }
    return new Promise<CallOutcome>((resolve, reject) => {
      this.pending.add(id, { batch, state, resolve, reject });
      if (this.pending.size === 1) worker.busy();
    });
  }

  /** Terminates the worker; calls in flight reject with STAGE_STOPPED. Idempotent; leaves no handle or timer. */
  async stop(): Promise<void> {
    const life = this.life;
    if (life.phase === 'starting') {
      life.opening.timer();
      life.opening.reject(this.openFailed('stop() was called while it was starting', undefined));
    }
    this.stops++;
    const hadWorker = life.phase !== 'down';
    this.takeDown({ code: 'STAGE_STOPPED', message: `stage "${this.node}" was stopped`, cause: undefined, respawn: false });
    if (hadWorker) this.log.debug('thread stage stopped');
    await this.exited;
  }

  // ---- starting

  /**
   * The worker died (timeout, crash): starts a fresh one, then sends the call. When it cannot be
   * started, the call fails with STAGE_CRASHED naming its own offsets, and the next call tries again
   * (unless stop() came in between).
   */
  private async respawn(batch: Batch, state: unknown): Promise<CallOutcome> {
    const stops = this.stops;
    this.log.info({ offsets: span(batch) }, 'thread stage starts a new worker thread for its next call');
    try {
      await this.start();
    } catch (error) {
      const message = `stage "${this.node}" could not start a new worker thread for the call at offsets ${span(batch)}: ${messageOf(error)}`;
      const failed = callError('STAGE_CRASHED', this.node, message, batch, error);
      if (this.stops === stops && this.life.phase === 'down') this.life = { phase: 'down', down: { code: 'STAGE_CRASHED', message, cause: error, respawn: true } };
      throw failed;
    }
    return this.send(batch, state);
  }

  private async spawn(): Promise<void> {
    const stops = this.stops;
    await this.exited;
    if (this.stops !== stops) throw this.openFailed('stop() was called while it was starting', undefined);
    const worker: ThreadWorker = new ThreadWorker(this.stage, this.node, this.log.levelVal, {
      message: (message) => this.onMessage(worker, message),
      error: (error) => this.onError(worker, error),
      exit: (code) => this.onExit(worker, code),
      unreadable: (error) => {
        if (worker === this.current) this.crash(`a message from its worker thread cannot be read: ${messageOf(error)}`, error, 'unknown');
      },
      stalled: (at) => {
        if (worker === this.current) this.stalled(at);
      },
    });
    const { opening, opened } = openingWithin(this.openTimeoutMs, () => this.failOpen(`its worker thread did not start within ${this.openTimeoutMs} ms`, undefined));
    // A worker started again after a crash keeps `respawn`: a call that comes while it starts waits for it.
    const respawn = this.life.phase !== 'up' && this.life.down.respawn;
    const down: Down = { code: 'STAGE_STOPPED', message: `stage "${this.node}" is starting in its worker thread`, cause: undefined, respawn };
    this.life = { phase: 'starting', worker, opening, down };
    await opened;
  }

  /** The worker of the runner now (starting or up), if any: events of an older one are late. */
  private get current(): ThreadWorker | undefined {
    return this.life.phase === 'down' ? undefined : this.life.worker;
  }

  private openFailed(reason: string, cause: unknown): SteadfastError {
    return openFailure(this.stage, this.node, reason, cause);
  }

  /** The start failed (while starting; else nothing happens): the worker is taken down, `start()` rejects with STAGE_OPEN_FAILED. */
  private failOpen(reason: string, cause: unknown): void {
    const life = this.life;
    if (life.phase !== 'starting') return;
    const { opening } = life;
    opening.timer();
    const error = this.openFailed(reason, cause);
    this.takeDown({ code: 'STAGE_STOPPED', message: error.message, cause: error, respawn: false });
    this.log.error({ err: error }, 'thread stage failed to start');
    opening.reject(error);
  }

  // ---- messages and events from the worker

  private onMessage(worker: ThreadWorker, message: WorkerMessage): void {
    if (worker !== this.current) {
      this.late.deliver(worker, message, this.node);
      return;
    }
    switch (message.type) {
      case 'ready': {
        const life = this.life;
        if (life.phase !== 'starting') return;
        const { opening } = life;
        opening.timer();
        this.life = { phase: 'up', worker };
        // An idle worker does not keep the process alive; a call in flight does (see run()).
        if (this.pending.size === 0) worker.idle();
        this.log.debug({ threadId: worker.threadId }, 'thread stage started');
        opening.resolve();
        return;
      }
      case 'open-failed':
        this.failOpen(message.message, message.cause === undefined ? undefined : causeError(message.cause));
        return;
      case 'result':
      case 'failure':
      case 'call-error': {
        const call = this.take(message.id);
        if (call !== undefined) settleCall(call, message, this.node);
        return;
      }
      case 'bad-message':
        this.crash(`a call sent to its worker thread cannot be read there: ${message.message}`, undefined, 'unknown');
        return;
      case 'log':
        worker.forwardLog(this.log, message);
        return;
    }
  }

  private onError(worker: ThreadWorker, error: Error): void {
    if (worker !== this.current) return;
    if (this.life.phase === 'starting') {
      this.failOpen(`its worker thread failed: ${messageOf(error)}`, error);
      return;
    }
    this.crash(workerErrorReason(this.stage.resourceLimits, error), error, 'dying');
  }

  private onExit(worker: ThreadWorker, code: number): void {
    if (worker !== this.current) {
      this.late.lost(worker);
      return;
    }
    if (this.life.phase === 'starting') this.failOpen(`its worker thread exited with code ${code} before it was ready`, undefined);
    else this.crash(`its worker thread exited with code ${code}`, undefined, 'exited');
  }

  // ---- calls

  private take(id: number): PendingCall | undefined {
    const call = this.pending.take(id);
    if (call === undefined) return undefined;
    const life = this.life;
    if (this.pending.size === 0 && life.phase !== 'down') life.worker.idle();
    return call;
  }

  /** The worker has been at `at` (a call, an event) for `timeoutMs`. */
  private stalled(at: CallPosition): void {
    this.die('STAGE_TIMEOUT', undefined, undefined, at, true);
  }

  /**
   * The worker died, or cannot be used. `how`: `dying` (an uncaught error; its exit comes next) and
   * `exited` (its messages have all been delivered) say that it stopped where the progress buffer
   * says; `unknown` (a message that cannot be read) says nothing of where it was.
   */
  private crash(reason: string, cause: unknown, how: 'dying' | 'exited' | 'unknown'): void {
    const life = this.life;
    // Before `ready` a crash is a failed start, as an error or an exit then is.
    if (life.phase === 'starting') {
      this.failOpen(reason, cause);
      return;
    }
    const at = how === 'unknown' || life.phase === 'down' ? undefined : life.worker.position();
    this.die('STAGE_CRASHED', reason, cause, at, how === 'dying');
  }

  /**
   * The worker timed out or crashed: terminate it and fail the calls in flight; the next call starts
   * a new one. The call it was running fails for the event it was on when `at` says which
   * (a BatchFailure giving back the others), else as a whole; `reason` says why it crashed.
   * `beforeExit`: the worker has not exited yet, so an answer it posted will still come.
   */
  private die(code: 'STAGE_TIMEOUT' | 'STAGE_CRASHED', reason: string | undefined, cause: unknown, at: CallPosition | undefined, beforeExit: boolean): void {
    const worker = this.current;
    const threadId = worker?.threadId;
    const down: Downfall = { code, node: this.node, timeoutMs: this.stage.timeoutMs, reason, cause };
    const { error, culprit } = bury(down, worker, at, beforeExit, this.pending, this.late);
    this.takeDown({ code, message: error.message, cause: error, respawn: true }, culprit);
    this.log.error({ err: error, threadId }, code === 'STAGE_TIMEOUT' ? 'thread stage timed out' : 'thread stage crashed');
    if (this.onCrash !== undefined) {
      try {
        this.onCrash(error);
      } catch (hookError) {
        this.log.error({ err: hookError }, 'onCrash threw');
      }
    }
  }

  /**
   * Terminates the worker (if any) and fails every call in flight with `down`; `culprit`, when
   * given, is the call that took the worker down, with its error (already built).
   */
  private takeDown(down: Down, culprit?: { id: number; rejection: Error }): void {
    const life = this.life;
    this.life = { phase: 'down', down };
    if (life.phase !== 'down') {
      const exit = life.worker.terminate();
      this.exited = this.exited.then(() => exit);
    }
    for (const [id, call] of this.pending.drain()) call.reject(id === culprit?.id ? culprit.rejection : lostCall(down, this.node, call.batch));
  }
}
