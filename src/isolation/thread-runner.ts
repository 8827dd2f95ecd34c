import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Batch } from '../core/batch-queue.js';
import { ConfigError, StageCallError, SteadfastError, messageOf } from '../core/errors.js';
import { BatchFailure, type CallOutcome, type CallRunner } from '../pipeline/run-call.js';
import type { AnyStage } from '../stage.js';
import type { HostMessage, WireCallError, WireCause, WorkerInit, WorkerMessage } from './protocol.js';
import { workerUrl } from './worker-url.js';

/** Options of {@link ThreadRunner}. */
export interface ThreadRunnerOptions {
  /** The stage to run; its `isolation` is `'thread'` and its `module` exports it. */
  stage: AnyStage;
  /** Name of the node running the calls (the stage name, or the graph key; replicas add `#i`). */
  node: string;
  /** Where the runner logs, and where the stage's `ctx.log` records go (with `stage` bound). */
  log: Logger;
  /** Longest `start()` may take (spawning the worker and importing the module) before it fails; default 30 000 ms. */
  openTimeoutMs?: number;
  /** Called once when the worker dies (timeout or crash) — also when no call was running. */
  onCrash?: (error: StageCallError) => void;
}

/** Codes a ThreadRunner's call errors carry. */
export type ThreadCallErrorCode = 'STAGE_CALL_FAILED' | 'STAGE_RESULT_INVALID' | 'STAGE_TIMEOUT' | 'STAGE_CRASHED' | 'STAGE_STOPPED';

/** Why the runner cannot take calls. */
interface Down {
  code: 'STAGE_TIMEOUT' | 'STAGE_CRASHED' | 'STAGE_STOPPED';
  message: string;
  /** The error of the crash or timeout (or of the failed start), given as `cause` to the calls that fail after it. */
  cause: unknown;
  /** After a timeout or a crash (not a stop): the next call starts a fresh worker first. */
  respawn: boolean;
}

interface Pending {
  batch: Batch;
  resolve: (outcome: CallOutcome) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Opening {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_OPEN_TIMEOUT_MS = 30_000;
const noop = (): void => {};

/**
 * Runs the calls of one stage node in a worker thread (`isolation: 'thread'`), so that a call stuck
 * in synchronous code can be stopped by the stage's `timeoutMs` (the worker is terminated) and a
 * stage that exhausts its `resourceLimits` dies alone. The worker imports `stage.module`, finds
 * the exported stage by name and runs it with `stageRunner`: per-event semantics (state, outputs,
 * BatchFailure with the committed prefix and the rest) are those of an inline stage.
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
  private worker: Worker | undefined;
  private ready = false;
  private opening: Opening | undefined;
  private starting: Promise<void> | undefined;
  /** Settles when the last worker has exited (after terminate). */
  private exited: Promise<void> = Promise.resolve();
  private down: Down;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Counts stop() calls, so that a start() waiting for the previous worker to exit sees a stop in between. */
  private stops = 0;

  constructor(options: ThreadRunnerOptions) {
    const { stage, node } = options;
    if (stage.isolation !== 'thread') {
      throw new ConfigError(`stage "${stage.name}".isolation`, stage.isolation, "must be 'thread' to run in a worker thread");
    }
    if (stage.module === undefined) {
      throw new ConfigError(`stage "${stage.name}".module`, stage.module, 'must name the module exporting the stage');
    }
    this.stage = stage;
    this.node = node;
    const bindings = options.log.bindings();
    this.log = bindings.stage === undefined ? options.log.child({ stage: node }) : options.log;
    this.openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.onCrash = options.onCrash;
    this.down = { code: 'STAGE_STOPPED', message: `stage "${node}" has not been started in its worker thread`, cause: undefined, respawn: false };
    this.call = (batch, state) => this.run(batch, state);
  }

  /** True when the worker is up and takes calls. */
  get running(): boolean {
    return this.ready;
  }

  /**
   * Spawns the worker, which imports the stage's module and finds the stage. Rejects with
   * STAGE_OPEN_FAILED when the module cannot be imported, exports no such stage, or the worker does
   * not come up within `openTimeoutMs`. Does nothing while the worker is up; after a crash, starts
   * a new one.
   */
  start(): Promise<void> {
    if (this.starting !== undefined) return this.starting;
    if (this.ready) return Promise.resolve();
    const starting = this.spawn().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  /**
   * Runs one call in the worker: the batch and the state go there by structured clone, the outcome
   * comes back the same way. After a timeout or a crash it first starts a new worker. Rejects with
   * a BatchFailure as an inline stage would, or with a StageCallError for the whole batch:
   * STAGE_TIMEOUT, STAGE_CRASHED (also: no new worker could be started for it), STAGE_STOPPED (not
   * started, stopped, or stopped during the call), STAGE_CALL_FAILED (something cannot be cloned).
   */
  run(batch: Batch, state: unknown): Promise<CallOutcome> {
    if ((this.worker === undefined || !this.ready) && this.down.respawn) return this.respawn(batch, state);
    return this.send(batch, state);
  }

  /** Sends a call to the worker, or rejects at once when it is not up. */
  private send(batch: Batch, state: unknown): Promise<CallOutcome> {
    const worker = this.worker;
    if (worker === undefined || !this.ready) return Promise.reject(this.refusal(batch));
    const id = this.nextId++;
    const message: HostMessage = { type: 'call', id, batch: { values: batch.values, offsets: batch.offsets }, state };
    try {
      worker.postMessage(message);
    } catch (error) {
      return Promise.reject(this.cloneFailure(batch, state, error));
    }
    return new Promise<CallOutcome>((resolve, reject) => {
      const timeoutMs = this.stage.timeoutMs;
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.timedOut(id, batch, timeoutMs), timeoutMs);
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { batch, resolve, reject, timer });
    });
  }

  /** Terminates the worker; calls in flight reject with STAGE_STOPPED. Idempotent; leaves no handle or timer. */
  async stop(): Promise<void> {
    const opening = this.opening;
    if (opening !== undefined) {
      this.opening = undefined;
      clearTimeout(opening.timer);
      opening.reject(this.openFailed('stop() was called while it was starting', undefined));
    }
    this.stops++;
    const hadWorker = this.worker !== undefined;
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
      if (this.stops === stops && this.worker === undefined) this.down = { code: 'STAGE_CRASHED', message, cause: error, respawn: true };
      throw failed;
    }
    return this.send(batch, state);
  }

  private async spawn(): Promise<void> {
    const stops = this.stops;
    await this.exited;
    if (this.stops !== stops) throw this.openFailed('stop() was called while it was starting', undefined);
    const stage = this.stage;
    const module = stage.module as string;
    let url: URL;
    try {
      url = workerUrl(module);
    } catch (error) {
      throw this.openFailed(messageOf(error), error);
    }
    const init: WorkerInit = { module, stage: stage.name, node: this.node, levelValue: this.log.levelVal };
    const options: WorkerOptions = { workerData: init };
    if (stage.resourceLimits !== undefined) options.resourceLimits = { ...stage.resourceLimits };
    let worker: Worker;
    try {
      worker = new Worker(url, options);
    } catch (error) {
      throw this.openFailed(`its worker thread cannot be created: ${messageOf(error)}`, error);
    }
    this.worker = worker;
    this.ready = false;
    // A worker started again after a crash keeps `respawn`: a call that comes while it starts waits for it.
    this.down = { code: 'STAGE_STOPPED', message: `stage "${this.node}" is starting in its worker thread`, cause: undefined, respawn: this.down.respawn };
    worker.on('message', (message: WorkerMessage) => this.onMessage(worker, message));
    worker.on('error', (error: Error) => this.onError(worker, error));
    worker.on('exit', (code: number) => this.onExit(worker, code));
    worker.on('messageerror', (error: Error) => {
      if (worker === this.worker) this.crash(`a message from its worker thread cannot be read: ${messageOf(error)}`, error);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.failOpen(`its worker thread did not start within ${this.openTimeoutMs} ms`, undefined), this.openTimeoutMs);
      this.opening = { resolve, reject, timer };
    });
  }

  private openFailed(reason: string, cause: unknown): SteadfastError {
    return new SteadfastError(
      'STAGE_OPEN_FAILED',
      `stage "${this.node}" (module ${this.stage.module}) cannot start in a worker thread: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  }

  private failOpen(reason: string, cause: unknown): void {
    const opening = this.opening;
    if (opening === undefined) return;
    this.opening = undefined;
    clearTimeout(opening.timer);
    const error = this.openFailed(reason, cause);
    this.takeDown({ code: 'STAGE_STOPPED', message: error.message, cause: error, respawn: false });
    this.log.error({ err: error }, 'thread stage failed to start');
    opening.reject(error);
  }

  // ---- messages and events from the worker

  private onMessage(worker: Worker, message: WorkerMessage): void {
    if (worker !== this.worker) return;
    switch (message.type) {
      case 'ready': {
        const opening = this.opening;
        if (opening === undefined) return;
        this.opening = undefined;
        clearTimeout(opening.timer);
        this.ready = true;
        // An idle worker does not keep the process alive; a call in flight does (see run()).
        if (this.pending.size === 0) worker.unref();
        this.log.debug({ threadId: worker.threadId }, 'thread stage started');
        opening.resolve();
        return;
      }
      case 'open-failed':
        this.failOpen(message.message, message.cause === undefined ? undefined : causeError(message.cause));
        return;
      case 'result':
        this.take(message.id)?.resolve(message.outcome);
        return;
      case 'failure': {
        const call = this.take(message.id);
        call?.reject(new BatchFailure(this.callErrorOf(message.error), message.committed, message.rest));
        return;
      }
      case 'call-error': {
        const call = this.take(message.id);
        if (call === undefined) return;
        const cause = message.cause === undefined ? undefined : causeError(message.cause);
        call.reject(callError('STAGE_CALL_FAILED', this.node, message.message, call.batch, cause));
        return;
      }
      case 'bad-message':
        this.crash(`a call sent to its worker thread cannot be read there: ${message.message}`, undefined);
        return;
      case 'log': {
        const obj = { threadId: worker.threadId, ...message.obj };
        if (message.msg === undefined) this.log[message.level](obj);
        else this.log[message.level](obj, message.msg);
        return;
      }
    }
  }

  private onError(worker: Worker, error: Error): void {
    if (worker !== this.worker) return;
    if (!this.ready) {
      this.failOpen(`its worker thread failed: ${messageOf(error)}`, error);
      return;
    }
    if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const limits = this.stage.resourceLimits === undefined ? 'no resourceLimits' : `resourceLimits ${JSON.stringify(this.stage.resourceLimits)}`;
      this.crash(`its worker thread ran out of memory (${limits}): ${messageOf(error)}`, error);
    } else {
      this.crash(`uncaught error in its worker thread: ${messageOf(error)}`, error);
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    if (!this.ready) this.failOpen(`its worker thread exited with code ${code} before it was ready`, undefined);
    else this.crash(`its worker thread exited with code ${code}`, undefined);
  }

  // ---- calls

  private take(id: number): Pending | undefined {
    const call = this.pending.get(id);
    if (call === undefined) return undefined;
    this.pending.delete(id);
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (this.pending.size === 0) this.worker?.unref();
    return call;
  }

  private timedOut(id: number, batch: Batch, timeoutMs: number): void {
    const message = `stage "${this.node}" did not finish a call (offsets ${span(batch)}) within its timeout of ${timeoutMs} ms; its worker thread was terminated`;
    this.die('STAGE_TIMEOUT', message, undefined, id);
  }

  private crash(reason: string, cause: unknown): void {
    this.die('STAGE_CRASHED', `stage "${this.node}" crashed: ${reason}`, cause);
  }

  /** The worker timed out or crashed: terminate it and fail the calls in flight; the next call starts a new one. */
  private die(code: 'STAGE_TIMEOUT' | 'STAGE_CRASHED', message: string, cause: unknown, culprit?: number): void {
    const threadId = this.worker?.threadId;
    // The call that timed out, or (for a crash) the oldest call in flight, gets this error.
    const id = culprit ?? [...this.pending.keys()][0];
    const batch = id === undefined ? undefined : this.pending.get(id)?.batch;
    const error = callError(code, this.node, message, batch ?? { values: [], offsets: [] }, cause);
    this.takeDown({ code, message, cause: error, respawn: true }, id === undefined ? undefined : { id, error });
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
  private takeDown(down: Down, culprit?: { id: number; error: StageCallError }): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = false;
    this.down = down;
    if (worker !== undefined) {
      const exit = worker.terminate().then(() => {
        worker.removeAllListeners();
      }, noop);
      this.exited = this.exited.then(() => exit);
    }
    const calls = [...this.pending];
    this.pending.clear();
    for (const [id, call] of calls) {
      if (call.timer !== undefined) clearTimeout(call.timer);
      if (id === culprit?.id) {
        call.reject(culprit.error);
        continue;
      }
      const message =
        down.code === 'STAGE_STOPPED'
          ? `${down.message} during a call (offsets ${span(call.batch)}); the call was abandoned`
          : `${down.message}; the call at offsets ${span(call.batch)}, in flight in the same worker thread, was lost`;
      call.reject(callError(down.code, this.node, message, call.batch, down.cause));
    }
  }

  /** The error of a call made while the runner cannot take it: the code of what took it down, and the call's own offsets. */
  private refusal(batch: Batch): StageCallError {
    const { code, message, cause } = this.down;
    return callError(code, this.node, `${message}; the call at offsets ${span(batch)} was refused`, batch, cause);
  }

  private cloneFailure(batch: Batch, state: unknown, error: unknown): StageCallError {
    let stateClones = true;
    try {
      structuredClone(state);
    } catch {
      stateClones = false;
    }
    const what = stateClones ? `events at offsets ${span(batch)}` : 'state';
    const message = `${what} of stage "${this.node}" cannot be sent to its worker thread (a thread stage's state and events must be structured-cloneable): ${messageOf(error)}`;
    return callError('STAGE_CALL_FAILED', this.node, message, batch, error);
  }

  /** A StageCallError from the worker, rebuilt. */
  private callErrorOf(wire: WireCallError): StageCallError {
    const code: ThreadCallErrorCode = wire.code === 'STAGE_RESULT_INVALID' ? 'STAGE_RESULT_INVALID' : 'STAGE_CALL_FAILED';
    const cause = wire.cause === undefined ? undefined : causeError(wire.cause);
    return callError(code, wire.stage, wire.message, { values: wire.events as unknown[], offsets: wire.offsets as number[] }, cause);
  }
}

/** A StageCallError for a call that did not happen (timeout, crash, stop), with its events and offsets. */
function callError(code: ThreadCallErrorCode, stage: string, message: string, batch: Batch, cause: unknown): StageCallError {
  return new StageCallError(code, stage, message, { offsets: batch.offsets, events: batch.values }, cause);
}

/** An Error standing for a value thrown in the worker: its name, message, stack string and code. */
function causeError(wire: WireCause): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  error.stack = wire.stack ?? `${wire.name}: ${wire.message}\n    at <worker thread>`;
  if (wire.code !== undefined) Object.defineProperty(error, 'code', { value: wire.code, enumerable: true, configurable: true, writable: true });
  return error;
}

function span(batch: Batch): string {
  const first = batch.offsets[0];
  const last = batch.offsets[batch.offsets.length - 1];
  return first === last ? String(first) : `${first}..${last}`;
}
