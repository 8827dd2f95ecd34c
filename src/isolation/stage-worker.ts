/**
 * Entry of a thread stage's worker (started by ThreadRunner, never imported by the host): imports
 * the module that exports the stage, finds the stage by name, and runs each call it is sent with
 * `stageRunner` (the same per-event semantics as an inline stage), one call at a time, sending back
 * the outcome, the BatchFailure as plain data, or a log record. Before each event it records the
 * call and the event's index in the progress buffer shared with the host (`call-progress.ts`), so
 * that the host knows which event hung or crashed the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { format } from 'node:util';
import type { Logger } from 'pino';
import { messageOf } from '../core/errors.js';
import { BatchFailure, stageRunner, type CallOutcome, type CallRunner, type MutableStageContext } from '../stage/run-call.js';
import { isStage, type Stage, type StageContext } from '../stage.js';
import { CALL_DONE, NO_EVENT, PROGRESS_CALL, PROGRESS_INDEX } from './call-progress.js';
import { LEVEL_VALUES, type CallMessage, type HostMessage, type LogLevel, type WireCause, type WorkerInit, type WorkerMessage } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('stage-worker is the entry of a worker thread started by ThreadRunner; it cannot run on the main thread');
const init = workerData as WorkerInit;

function post(message: WorkerMessage): void {
  (port as NonNullable<typeof port>).postMessage(message);
}

/** A thrown value as plain data (never throws). */
function wireCause(value: unknown): WireCause {
  if (value instanceof Error) {
    let stack: string | undefined;
    let code: string | undefined;
    try {
      stack = typeof value.stack === 'string' ? value.stack : undefined;
      const c = (value as { code?: unknown }).code;
      code = typeof c === 'string' ? c : undefined;
    } catch {
      // a hostile getter: keep what we have
    }
    return { name: safeName(value), message: messageOf(value), stack, code };
  }
  return { name: 'Error', message: messageOf(value), stack: undefined, code: undefined };
}

function safeName(error: Error): string {
  try {
    return typeof error.name === 'string' ? error.name : 'Error';
  } catch {
    return 'Error';
  }
}

/** Finds the stage named `name` among the module's exports (the default export included). */
function findStage(mod: Record<string, unknown>, name: string): Stage | string[] {
  const names: string[] = [];
  for (const value of Object.values(mod)) {
    if (!isStage(value)) continue;
    if (value.name === name) return value;
    names.push(value.name);
  }
  return names;
}

async function load(): Promise<Stage | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(init.module)) as Record<string, unknown>;
  } catch (error) {
    post({ type: 'open-failed', message: `cannot import module ${init.module}: ${messageOf(error)}`, cause: wireCause(error) });
    return undefined;
  }
  const found = findStage(mod, init.stage);
  if (!Array.isArray(found)) return found;
  const others = found.length === 0 ? 'it exports no stages' : `it exports stages ${found.map((n) => JSON.stringify(n)).join(', ')}`;
  post({
    type: 'open-failed',
    message: `module ${init.module} does not export a stage named "${init.stage}" (${others}); a thread stage must be exported by the module given as its \`module\``,
    cause: undefined,
  });
  return undefined;
}

// ---- ctx.log: a small pino-like logger whose records go to the host's logger.

function logRecord(bindings: Record<string, unknown>, args: unknown[]): { obj: Record<string, unknown>; msg: string | undefined } {
  const [first, ...rest] = args;
  if (typeof first === 'string') return { obj: { ...bindings }, msg: rest.length > 0 ? format(first, ...rest) : first };
  if (first instanceof Error) {
    const msg = rest.length > 0 ? format(...rest) : messageOf(first);
    return { obj: { ...bindings, err: first }, msg };
  }
  if (typeof first === 'object' && first !== null) {
    const [message, ...more] = rest;
    const msg = message === undefined ? undefined : more.length > 0 ? format(message, ...more) : String(message);
    return { obj: { ...bindings, ...(first as Record<string, unknown>) }, msg };
  }
  return { obj: { ...bindings }, msg: args.length === 0 ? undefined : format(...args) };
}

function sendLog(level: LogLevel, obj: Record<string, unknown>, msg: string | undefined): void {
  try {
    post({ type: 'log', level, obj, msg });
  } catch (error) {
    // Something in the record cannot be cloned (a function, a socket...): send what can be said of it.
    const keys = Object.keys(obj).join(', ');
    post({ type: 'log', level, obj: { logFieldsDropped: `fields (${keys}) cannot be sent from the worker thread: ${messageOf(error)}` }, msg });
  }
}

/** What a thread stage gets as `ctx.log`: trace, debug, info, warn, error, fatal, child and isLevelEnabled. */
function workerLogger(bindings: Record<string, unknown>): Logger {
  const enabled = (level: LogLevel) => LEVEL_VALUES[level] >= init.levelValue;
  const method = (level: LogLevel) => (...args: unknown[]) => {
    if (!enabled(level)) return;
    const { obj, msg } = logRecord(bindings, args);
    sendLog(level, obj, msg);
  };
  const logger = {
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    isLevelEnabled: (level: string) => level in LEVEL_VALUES && enabled(level as LogLevel),
    child: (more: Record<string, unknown>) => workerLogger({ ...bindings, ...more }),
  };
  // Not a pino Logger: the methods a stage uses on its ctx.log (docs/isolation.md says which).
  return logger as unknown as Logger;
}

// ---- calls

function sendOutcome(id: number, outcome: CallOutcome): void {
  try {
    post({ type: 'result', id, outcome });
  } catch (error) {
    post({
      type: 'call-error',
      id,
      message: `the result of stage "${init.node}" (its new state or its outputs) cannot be sent back from its worker thread: ${messageOf(error)}`,
      cause: wireCause(error),
    });
  }
}

function sendFailure(id: number, failure: BatchFailure): void {
  const { error, committed, rest } = failure;
  const wire = {
    code: error.code,
    stage: error.stage,
    message: error.message,
    offsets: error.offsets,
    events: error.events,
    cause: error.cause === undefined ? undefined : wireCause(error.cause),
  };
  try {
    post({ type: 'failure', id, error: wire, committed, rest });
  } catch (cloneError) {
    post({
      type: 'call-error',
      id,
      message: `${error.message} (and what the events before it produced cannot be sent back from the worker thread: ${messageOf(cloneError)})`,
      cause: wire.cause,
    });
  }
}

function sendError(id: number, error: unknown): void {
  const cause = wireCause(error);
  post({ type: 'call-error', id, message: `stage "${init.node}" failed in its worker thread: ${cause.message}`, cause });
}

function settle(id: number, outcome: CallOutcome | Promise<CallOutcome>, done: () => void): void {
  if (!(outcome instanceof Promise)) {
    sendOutcome(id, outcome);
    done();
    return;
  }
  outcome
    .then(
      (value) => sendOutcome(id, value),
      (error: unknown) => (error instanceof BatchFailure ? sendFailure(id, error) : sendError(id, error)),
    )
    .finally(done);
}

// ---- progress: which event of which call runs (read by the host when the worker hangs or dies)

const progress = new Int32Array(init.progress);
/** Index in the running call's batch of the next event `process` is called for. */
let nextEvent = 0;

/**
 * The stage with a `process` that records the index of each event before running it: one
 * `Atomics.store` per event (stageRunner calls `process` once per event, in order: a thread stage
 * has no retry that would call it again for the same event). A
 * `processBatch` stage records only its calls: a timeout or crash there covers the whole batch.
 */
function tracked(stage: Stage): Stage {
  const { process } = stage;
  if (process === undefined) return stage;
  const recorded = (event: unknown, state: unknown, ctx: StageContext) => {
    Atomics.store(progress, PROGRESS_INDEX, nextEvent++);
    return process(event, state, ctx);
  };
  return { ...stage, process: recorded };
}

function serve(stage: Stage): void {
  const runner: CallRunner = stageRunner(tracked(stage), init.node);
  const ctx: MutableStageContext = {
    stage: init.node,
    offset: 0,
    offsets: [],
    // Nothing aborts it: a thread stage is stopped by terminating its worker.
    signal: new AbortController().signal,
    log: workerLogger({}),
  };
  // One call at a time, as on the host: calls that come while an async one runs wait their turn,
  // so that the progress slots (and ctx) belong to one call.
  const waiting: CallMessage[] = [];
  let running = false;
  const run = (message: CallMessage): void => {
    running = true;
    nextEvent = 0;
    Atomics.store(progress, PROGRESS_INDEX, NO_EVENT);
    Atomics.store(progress, PROGRESS_CALL, message.id);
    let outcome: CallOutcome | Promise<CallOutcome>;
    try {
      outcome = runner(message.batch, message.state, ctx);
    } catch (error) {
      if (error instanceof BatchFailure) sendFailure(message.id, error);
      else sendError(message.id, error);
      done();
      return;
    }
    settle(message.id, outcome, done);
  };
  const done = (): void => {
    Atomics.store(progress, PROGRESS_INDEX, CALL_DONE);
    running = false;
    pump();
  };
  // A loop, not a recursion: calls that end synchronously do not stack up.
  let pumping = false;
  const pump = (): void => {
    if (pumping) return;
    pumping = true;
    try {
      while (!running) {
        const next = waiting.shift();
        if (next === undefined) break;
        run(next);
      }
    } finally {
      pumping = false;
    }
  };
  const p = port as NonNullable<typeof port>;
  p.on('message', (message: HostMessage) => {
    if (message.type !== 'call') return;
    waiting.push(message);
    pump();
  });
  p.on('messageerror', (error: Error) => post({ type: 'bad-message', message: messageOf(error) }));
  post({ type: 'ready' });
}

const stage = await load();
if (stage !== undefined) serve(stage);
