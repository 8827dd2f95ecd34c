// One worker thread of a thread stage's runner: the thread, the buffer where it records its
// progress, the watch that times its events, and who hears what it says and does.
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AnyStage } from '../stage.js';
import { readPosition, type CallPosition } from './call-progress.js';
import type { HostMessage, WorkerMessage } from './protocol.js';
import { StallWatch } from './stall-watch.js';
import { spawnWorker } from './worker-spawn.js';

/** What a runner hears from one of its workers. */
export interface ThreadWorkerEvents {
  message(message: WorkerMessage): void;
  error(error: Error): void;
  exit(code: number): void;
  /** A message from the worker cannot be read. */
  unreadable(error: Error): void;
  /** The worker has been at `at` (a call, an event) for the stage's `timeoutMs` (only while it is busy). */
  stalled(at: CallPosition): void;
}

const noop = (): void => {};

/**
 * A worker thread running a thread stage. It is idle (it does not keep the process alive, and is
 * not timed) until a call is sent, and busy until the last call in flight is answered.
 */
export class ThreadWorker {
  private readonly worker: Worker;
  private readonly progress: Int32Array;
  private readonly watch: StallWatch | undefined;

  /** Spawns the thread (STAGE_OPEN_FAILED when it cannot be made); `events` hear it from then on. */
  constructor(stage: AnyStage, node: string, levelValue: number, events: ThreadWorkerEvents) {
    const { worker, progress } = spawnWorker(stage, node, levelValue);
    this.worker = worker;
    this.progress = progress;
    const { timeoutMs } = stage;
    this.watch = timeoutMs === undefined ? undefined : new StallWatch(progress, timeoutMs, (at) => events.stalled(at));
    worker.on('message', (message: WorkerMessage) => events.message(message));
    worker.on('error', (error: Error) => events.error(error));
    worker.on('exit', (code: number) => events.exit(code));
    worker.on('messageerror', (error: Error) => events.unreadable(error));
  }

  /** The thread's id, for logs. */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** Where the worker is (call, event), from its progress buffer: exact once it is stuck or dead. */
  position(): CallPosition {
    return readPosition(this.progress);
  }

  /** Logs a record the stage wrote with `ctx.log` in the worker, with the thread's id. */
  forwardLog(log: Logger, message: Extract<WorkerMessage, { type: 'log' }>): void {
    const obj = { threadId: this.worker.threadId, ...message.obj };
    if (message.msg === undefined) log[message.level](obj);
    else log[message.level](obj, message.msg);
  }

  /** Posts a message to the worker (throws when something in it cannot be cloned). */
  post(message: HostMessage): void {
    this.worker.postMessage(message);
  }

  /** A call is in flight: the worker keeps the process alive and its events are timed. */
  busy(): void {
    this.worker.ref();
    this.watch?.start();
  }

  /** No call is in flight: the worker does not keep the process alive and is not timed. */
  idle(): void {
    this.worker.unref();
    this.watch?.stop();
  }

  /** Terminates the thread; resolves (never rejects) once it has exited and its listeners are gone. */
  terminate(): Promise<void> {
    this.watch?.stop();
    const worker = this.worker;
    return worker.terminate().then(() => {
      worker.removeAllListeners();
    }, noop);
  }
}
