import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/batch-queue.js';
import { ConfigError, StageCallError, isSteadfastError } from '../../src/core/errors.js';
import { ThreadRunner, type ThreadRunnerOptions } from '../../src/isolation/thread-runner.js';
import { BatchFailure, stageRunner, type CallOutcome, type MutableStageContext } from '../../src/stage/run-call.js';
import { defineStage, type AnyStage } from '../../src/stage.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { noModule, unexported } from './fixtures/missing.js';
import { BREAK_FRAGILE, fragile } from './fixtures/fragile.js';
import { dies, hangsAsync, hog, slow, spinsLater, stuck, stuckBatch } from './fixtures/runaway.js';
import byDefault, { asyncCounter, chatty, counter, summer, unsendable } from './fixtures/stages.js';

const runners: ThreadRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
});

function captureLog(level: 'debug' | 'info' = 'debug'): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = pino({ level, base: { pipeline: 'iso' } }, { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records };
}

function runner(stage: AnyStage, extra: Partial<ThreadRunnerOptions> = {}): ThreadRunner {
  const made = new ThreadRunner({ stage, node: stage.name, log: pino({ level: 'silent' }), ...extra });
  runners.push(made);
  return made;
}

async function started(stage: AnyStage, extra: Partial<ThreadRunnerOptions> = {}): Promise<ThreadRunner> {
  const made = runner(stage, extra);
  await made.start();
  return made;
}

/** The same call, inline, as the pipeline runs it. */
async function inline(stage: AnyStage, batch: Batch, state: unknown): Promise<CallOutcome> {
  const ctx: MutableStageContext = { stage: stage.name, offset: 0, offsets: [], signal: new AbortController().signal, log: pino({ level: 'silent' }) };
  return stageRunner(stage, stage.name)(batch, state, ctx);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function batchOf<T>(values: T[], first = 0): Batch<T> {
  return { values, offsets: values.map((_, i) => first + i) };
}

/** The code of a call's error: the failing events' error of a BatchFailure, or the StageCallError's own. */
function codeOf(error: Error): string | undefined {
  return error instanceof BatchFailure ? error.error.code : (error as StageCallError).code;
}

/** Serializable view of a BatchFailure, for comparing thread and inline. */
function failureView(error: Error) {
  expect(error).toBeInstanceOf(BatchFailure);
  const { error: call, committed, rest } = error as BatchFailure;
  expect(call).toBeInstanceOf(StageCallError);
  const cause = call.cause as Error | undefined;
  return {
    code: call.code,
    stage: call.stage,
    message: call.message,
    offsets: call.offsets,
    events: call.events,
    cause: cause === undefined ? undefined : { name: cause.name, message: cause.message },
    committed,
    rest,
  };
}

describe('ThreadRunner: calls in a worker thread', () => {
  it('gives the same outputs and state as an inline stage, call after call', async () => {
    const thread = await started(counter);
    let threadState: unknown = counter.initialState();
    let inlineState: unknown = counter.initialState();
    for (let call = 0; call < 5; call++) {
      const batch = batchOf([1, 2, 3, 4, 5, 6, 7].map((n) => n + call * 100), call * 7);
      const a = await thread.run(batch, threadState);
      const b = await inline(counter, batch, inlineState);
      expect(a).toEqual(b);
      threadState = a.state;
      inlineState = b.state;
    }
    expect(threadState).toEqual({ n: 35, sum: 5 * 28 + 7 * (100 + 200 + 300 + 400) });
  });

  it('runs async process and processBatch stages like inline ones', async () => {
    const batch = batchOf([4, 5, 6, 7], 100);
    const asyncRunner = await started(asyncCounter);
    expect(await asyncRunner.run(batch, asyncCounter.initialState())).toEqual(await inline(asyncCounter, batch, asyncCounter.initialState()));
    const batchRunner = await started(summer);
    expect(await batchRunner.run(batch, { total: 1 })).toEqual({ state: { total: 23 }, values: [22], offsets: [103] });
    expect(await batchRunner.call(batch, { total: 0 }, undefined as unknown as MutableStageContext)).toEqual(await inline(summer, batch, { total: 0 }));
  });

  it('finds a stage exported as the module default', async () => {
    const thread = await started(byDefault);
    expect((await thread.run(batchOf([1, 2]), undefined)).values).toEqual([2, 3]);
  });

  it('turns a throwing event into a BatchFailure with the committed prefix and the rest, as inline', async () => {
    const thread = await started(counter);
    const batch = batchOf([1, 2, 13, 4, 5], 10);
    const state = { n: 5, sum: 50 };
    const fromThread = await failure(thread.run(batch, state));
    const fromInline = await failure(Promise.resolve().then(() => inline(counter, batch, state)));
    expect(failureView(fromThread)).toEqual(failureView(fromInline));
    const { error, committed, rest } = fromThread as BatchFailure;
    expect(error.code).toBe('STAGE_CALL_FAILED');
    expect(error.offsets).toEqual([12]);
    expect(error.events).toEqual([13]);
    expect(committed).toEqual({ state: { n: 7, sum: 53 }, values: [2, 4], offsets: [10, 11] });
    expect(rest).toEqual({ values: [4, 5], offsets: [13, 14] });
    // The cause is an Error carrying the worker's message and stack.
    const cause = error.cause as Error;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('TypeError');
    expect(cause.message).toBe('unlucky 13 at offset 12');
    expect(cause.stack).toContain('unlucky 13');
    expect(cause.stack).toContain('fixtures/stages.ts');
    // The worker goes on with the next call.
    expect((await thread.run(batchOf([4, 5], 13), committed.state)).state).toEqual({ n: 9, sum: 62 });
  });

  it('reports a rejected async event and a malformed result as inline does', async () => {
    const asyncRunner = await started(asyncCounter);
    const batch = batchOf([3, 4, -1, 5], 0);
    expect(failureView(await failure(asyncRunner.run(batch, { n: 0, sum: 0 })))).toEqual(
      failureView(await failure(inline(asyncCounter, batch, { n: 0, sum: 0 }))),
    );
    const chattyRunner = await started(chatty);
    const bad = batchOf(['malformed'], 7);
    const view = failureView(await failure(chattyRunner.run(bad, undefined)));
    expect(view.code).toBe('STAGE_RESULT_INVALID');
    expect(view).toEqual(failureView(await failure(Promise.resolve().then(() => inline(chatty, bad, undefined)))));
  });

  it('gives the stage a ctx (stage, offsets, a signal never aborted) and forwards ctx.log to the host logger', async () => {
    const { log, records } = captureLog('info');
    const thread = await started(chatty, { log });
    const outcome = await thread.run(batchOf(['hi'], 41), undefined);
    expect(outcome.values).toEqual(['HI', 'chatty', 'false']);
    const info = records.find((r) => r.msg === 'saw hi');
    expect(info).toMatchObject({ level: 30, pipeline: 'iso', stage: 'chatty', event: 'hi', offsets: [41] });
    expect(typeof info?.threadId).toBe('number');
    const warn = records.find((r) => r.level === 40);
    expect(warn).toMatchObject({ stage: 'chatty', sub: 'x', msg: 'careful with hi' });
    expect((warn?.err as { message: string }).message).toBe('careful with hi');
    expect(records.some((r) => r.msg === 'debug is below the level')).toBe(false);
  });
});

describe('ThreadRunner: timeouts and crashes', () => {
  it('terminates a call stuck in synchronous code at its timeout while the host keeps running, and starts again', async () => {
    const crashes: StageCallError[] = [];
    const thread = await started(stuck, { onCrash: (error) => crashes.push(error) });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const batch = batchOf(['a', 'spin', 'b'], 5);
    const error = await failure(thread.run(batch, { n: 1 }));
    const elapsed = performance.now() - t0;
    clearInterval(ticker);
    // Only the event that hung fails; the call keeps its starting state, and gives back the others to run again.
    expect(error).toBeInstanceOf(BatchFailure);
    const { error: timeout, committed, rest } = error as BatchFailure;
    expect(timeout).toBeInstanceOf(StageCallError);
    expect(timeout.code).toBe('STAGE_TIMEOUT');
    expect(timeout.stage).toBe('stuck');
    expect(timeout.message).toBe('stage "stuck" took longer than 200 ms at offset 6 (event 2 of 3 of its call); its worker thread was terminated');
    expect(timeout.events).toEqual(['spin']);
    expect(timeout.offsets).toEqual([6]);
    expect(committed).toEqual({ state: { n: 1 }, values: [], offsets: [] });
    expect(rest).toEqual({ values: ['a', 'b'], offsets: [5, 7] });
    // Each event has timeoutMs, checked every quarter of it.
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    // The host's event loop ran all along: about one tick per 10 ms.
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(crashes).toEqual([timeout]);
    expect(thread.running).toBe(false);

    // The next call starts a fresh worker first, and runs there; so does the one after another timeout.
    expect((await thread.run(batchOf(['c', 'd'], 8), undefined)).values).toEqual(['c', 'd']);
    expect(thread.running).toBe(true);
    const again = (await failure(thread.run(batchOf(['spin'], 10), undefined))) as BatchFailure;
    expect([again.error.code, again.error.offsets, again.error.message, again.rest.values]).toEqual([
      'STAGE_TIMEOUT',
      [10],
      'stage "stuck" took longer than 200 ms at offset 10; its worker thread was terminated',
      [],
    ]);
    expect((await thread.run(batchOf(['e'], 11), undefined)).values).toEqual(['e']);
    expect(crashes).toHaveLength(2);
  });

  it('fails a call whose new worker cannot start with STAGE_CRASHED for that call\'s offsets; the next call tries again', async () => {
    const thread = await started(fragile);
    expect(codeOf(await failure(thread.run(batchOf(['spin'], 0), undefined)))).toBe('STAGE_TIMEOUT');
    process.env[BREAK_FRAGILE] = '1';
    let failed: StageCallError;
    try {
      failed = (await failure(thread.run(batchOf(['a', 'b'], 1), undefined))) as StageCallError;
    } finally {
      delete process.env[BREAK_FRAGILE];
    }
    expect(failed).toBeInstanceOf(StageCallError);
    expect(failed.code).toBe('STAGE_CRASHED');
    expect(failed.offsets).toEqual([1, 2]);
    expect(failed.events).toEqual(['a', 'b']);
    expect(failed.message).toMatch(/^stage "fragile" could not start a new worker thread for the call at offsets 1\.\.2: .*the test broke this module/);
    expect(isSteadfastError(failed.cause, 'STAGE_OPEN_FAILED')).toBe(true);
    expect(thread.running).toBe(false);
    // The module loads again: the next call gets its worker.
    expect((await thread.run(batchOf(['c'], 3), undefined)).values).toEqual(['c']);
    expect(thread.running).toBe(true);
  });

  it('gives calls that were in flight with the one that timed out errors naming their own offsets', async () => {
    const thread = await started(stuck);
    const first = failure(thread.run(batchOf(['spin'], 0), undefined));
    const second = failure(thread.run(batchOf(['x'], 1), undefined));
    const [timedOut, lost] = (await Promise.all([first, second])) as [BatchFailure, StageCallError];
    expect([timedOut.error.code, timedOut.error.offsets]).toEqual(['STAGE_TIMEOUT', [0]]);
    expect([lost.code, lost.offsets]).toEqual(['STAGE_TIMEOUT', [1]]);
    expect(lost?.message).toContain('the call at offsets 1, in flight in the same worker thread, was lost');
  });

  it('a stage that allocates without end dies alone at its resourceLimits; the host and other stages go on', async () => {
    const crashes: StageCallError[] = [];
    const hogRunner = await started(hog, { onCrash: (error) => crashes.push(error) });
    const other = await started(counter);
    const hogging = failure(hogRunner.run(batchOf(['x', 'hog'], 0), undefined));
    // Another thread stage keeps answering while the hog fills its heap.
    let state: unknown = counter.initialState();
    for (let i = 0; i < 5; i++) state = (await other.run(batchOf([i], i), state)).state;
    const failed = (await hogging) as BatchFailure;
    expect(failed).toBeInstanceOf(BatchFailure);
    const error = failed.error;
    expect(error.code).toBe('STAGE_CRASHED');
    expect(error.message).toMatch(
      /^stage "hog" crashed at offset 1 \(event 2 of 2 of its call\): its worker thread ran out of memory \(resourceLimits \{"maxOldGenerationSizeMb":32\}\)/,
    );
    expect(error.events).toEqual(['hog']);
    expect(failed.rest).toEqual({ values: ['x'], offsets: [0] });
    expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    expect(crashes).toEqual([error]);
    expect(state).toEqual({ n: 5, sum: 10 });
    expect((await other.run(batchOf([5], 5), state)).state).toEqual({ n: 6, sum: 15 });
    // The next call gets a fresh worker.
    expect((await hogRunner.run(batchOf(['y'], 2), undefined)).values).toEqual(['y']);
  });

  it('an uncaught error in the worker outside a call, or the thread exiting, is a crash', async () => {
    const crashes: StageCallError[] = [];
    const thread = await started(dies, { onCrash: (error) => crashes.push(error) });
    expect((await thread.run(batchOf(['later'], 0), undefined)).values).toEqual(['later']);
    await expect.poll(() => crashes.length).toBe(1);
    expect(crashes[0]?.code).toBe('STAGE_CRASHED');
    expect(crashes[0]?.message).toBe('stage "dies" crashed: uncaught error in its worker thread: boom outside the call');
    expect(thread.running).toBe(false);
    // The next call runs in a new worker.
    expect((await thread.run(batchOf(['x'], 1), undefined)).values).toEqual(['x']);

    // In a call, the event that took the worker down fails alone.
    const exited = (await failure(thread.run(batchOf(['exit', 'y'], 2), undefined))) as BatchFailure;
    expect(exited.error.code).toBe('STAGE_CRASHED');
    expect(exited.error.message).toBe('stage "dies" crashed at offset 2 (event 1 of 2 of its call): its worker thread exited with code 3');
    expect(exited.error.offsets).toEqual([2]);
    expect(exited.rest).toEqual({ values: ['y'], offsets: [3] });
  });
});

describe('ThreadRunner: which event timed out or crashed', () => {
  it('gives each event timeoutMs, not the whole call: a batch of events under it runs to the end', async () => {
    const thread = await started(slow);
    const t0 = performance.now();
    expect((await thread.run(batchOf(['a', 'b', 'c', 'd'], 0), undefined)).values).toEqual(['a', 'b', 'c', 'd']);
    // 4 × 80 ms: longer than the 200 ms an event may take.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('fails a processBatch call as a whole on a timeout or a crash: one call covers its batch', async () => {
    const thread = await started(stuckBatch);
    const timedOut = await failure(thread.run(batchOf(['a', 'spin', 'b'], 0), { kept: true }));
    expect(timedOut).toBeInstanceOf(StageCallError);
    expect((timedOut as StageCallError).code).toBe('STAGE_TIMEOUT');
    expect((timedOut as StageCallError).offsets).toEqual([0, 1, 2]);
    expect(timedOut.message).toBe('stage "stuck-batch" did not finish a call (offsets 0..2) within its timeout of 200 ms; its worker thread was terminated');
    const crashed = await failure(thread.run(batchOf(['c', 'exit'], 3), undefined));
    expect(crashed).toBeInstanceOf(StageCallError);
    expect([(crashed as StageCallError).code, (crashed as StageCallError).offsets, crashed.message]).toEqual([
      'STAGE_CRASHED',
      [3, 4],
      'stage "stuck-batch" crashed: its worker thread exited with code 4',
    ]);
    expect((await thread.run(batchOf(['d', 'e'], 5), undefined)).values).toEqual(['d+e']);
  });

  it('fails a call as a whole when the worker is stuck outside any call and never starts it', async () => {
    const thread = await started(spinsLater);
    expect((await thread.run(batchOf(['later'], 0), undefined)).values).toEqual(['later']);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the worker's timer has started spinning
    const error = await failure(thread.run(batchOf(['a', 'b'], 1), undefined));
    expect(error).toBeInstanceOf(StageCallError);
    expect([(error as StageCallError).code, (error as StageCallError).offsets]).toEqual(['STAGE_TIMEOUT', [1, 2]]);
    expect((await thread.run(batchOf(['c'], 3), undefined)).values).toEqual(['c']);
  });

  it('fails an async event that overruns timeoutMs with STAGE_TIMEOUT for that event (the worker\'s own deadline, or the host)', async () => {
    const thread = await started(hangsAsync);
    const error = (await failure(thread.run(batchOf(['a', 'hang', 'b'], 0), undefined))) as BatchFailure;
    expect(error).toBeInstanceOf(BatchFailure);
    expect([error.error.code, error.error.offsets, error.error.message]).toEqual(['STAGE_TIMEOUT', [1], expect.stringMatching(/^stage "hangs-async" took longer than 200 ms at offset 1\b/)]);
    // Usually the worker's deadline comes first: it keeps what 'a' produced and stays up. If the host's
    // watch comes first, the worker is terminated and 'a' is given back to run again.
    const { committed, rest } = error;
    expect([...committed.values, ...rest.values]).toEqual(['a', 'b']);
    expect((await thread.run(batchOf(['c'], 3), undefined)).values).toEqual(['c']);
  });

  it('names the event even when earlier events of the call took most of the timeout', async () => {
    // Events 0..2 take 80 ms each (240 ms in all, past the 200 ms of one event); event 3 hangs.
    const thread = await started(slow);
    const t0 = performance.now();
    const error = (await failure(thread.run(batchOf(['a', 'b', 'c', 'spin', 'd'], 20), undefined))) as BatchFailure;
    expect(error).toBeInstanceOf(BatchFailure);
    expect([error.error.code, error.error.offsets, error.error.events]).toEqual(['STAGE_TIMEOUT', [23], ['spin']]);
    expect(error.rest).toEqual({ values: ['a', 'b', 'c', 'd'], offsets: [20, 21, 22, 24] });
    // The hung event had its 200 ms (and at most a quarter more) after the 240 ms before it.
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(240 + 190);
    expect(elapsed).toBeLessThan(240 + 250 + 500);
  });
});

describe('ThreadRunner: start, cloning and stop', () => {
  it('fails start with STAGE_OPEN_FAILED when the module is missing, naming module and stage', async () => {
    const error = await failure(runner(noModule).start());
    expect(isSteadfastError(error, 'STAGE_OPEN_FAILED')).toBe(true);
    expect(error.message).toContain('stage "no-module"');
    expect(error.message).toContain('does-not-exist.ts');
  });

  it('fails start with STAGE_OPEN_FAILED when the module does not export the stage', async () => {
    const stage = unexported();
    const thread = runner(stage);
    const error = await failure(thread.start());
    expect(isSteadfastError(error, 'STAGE_OPEN_FAILED')).toBe(true);
    expect(error.message).toMatch(/module file:.*fixtures\/missing\.ts does not export a stage named "made-on-the-fly" \(it exports stages "no-module"\)/);
    const refused = (await failure(thread.run(batchOf([1]), undefined))) as StageCallError;
    expect(refused.code).toBe('STAGE_STOPPED');
  });

  it('fails start with STAGE_OPEN_FAILED when stop() comes first, and can start afterwards', async () => {
    const thread = runner(counter);
    // stop() before the worker is spawned, then while it boots.
    for (const wait of [async () => {}, () => new Promise<void>((resolve) => setTimeout(resolve, 20))]) {
      const starting = failure(thread.start());
      await wait();
      await thread.stop();
      const error = await starting;
      expect(isSteadfastError(error, 'STAGE_OPEN_FAILED')).toBe(true);
      expect(error.message).toContain('stop() was called while it was starting');
      expect(thread.running).toBe(false);
    }
    await thread.start();
    expect((await thread.run(batchOf([1]), counter.initialState())).state).toEqual({ n: 1, sum: 1 });
  });

  it('fails start when the worker does not come up in time', async () => {
    const error = await failure(runner(counter, { openTimeoutMs: 1 }).start());
    expect(isSteadfastError(error, 'STAGE_OPEN_FAILED')).toBe(true);
    expect(error.message).toContain('did not start within 1 ms');
  });

  it('refuses a stage that is not a thread stage', () => {
    const inlineStage = defineStage({ name: 'inline', process: (e: number) => ({ emit: [e] }) });
    expect(() => new ThreadRunner({ stage: inlineStage, node: 'inline', log: pino({ level: 'silent' }) })).toThrow(ConfigError);
  });

  it('fails a call whose state, events or result cannot be cloned with STAGE_CALL_FAILED, and goes on', async () => {
    const thread = await started(counter);
    const badState = (await failure(thread.run(batchOf([1, 2], 4), { n: 0, sum: 0, f: () => 1 }))) as StageCallError;
    expect(badState).toBeInstanceOf(StageCallError);
    expect(badState.code).toBe('STAGE_CALL_FAILED');
    expect(badState.message).toMatch(/^state of stage "counter" cannot be sent to its worker thread .*could not be cloned/);
    expect(badState.offsets).toEqual([4, 5]);
    const badEvents = (await failure(thread.run({ values: [1, Symbol('no')], offsets: [0, 1] }, { n: 0, sum: 0 }))) as StageCallError;
    expect(badEvents.code).toBe('STAGE_CALL_FAILED');
    expect(badEvents.message).toMatch(/^events at offsets 0\.\.1 of stage "counter" cannot be sent to its worker thread/);
    expect((await thread.run(batchOf([1], 0), { n: 0, sum: 0 })).state).toEqual({ n: 1, sum: 1 });

    const unsendableRunner = await started(unsendable);
    const badResult = (await failure(unsendableRunner.run(batchOf([1], 9), undefined))) as StageCallError;
    expect(badResult.code).toBe('STAGE_CALL_FAILED');
    expect(badResult.message).toMatch(/^the result of stage "unsendable" .*cannot be sent back from its worker thread/);
    expect(badResult.offsets).toEqual([9]);
  });

  it('refuses calls before start and after stop with STAGE_STOPPED', async () => {
    const thread = runner(counter);
    expect(((await failure(thread.run(batchOf([1]), undefined))) as StageCallError).code).toBe('STAGE_STOPPED');
    await thread.start();
    await thread.start(); // already up: nothing happens
    await thread.stop();
    const refused = (await failure(thread.run(batchOf([1]), undefined))) as StageCallError;
    expect(refused.code).toBe('STAGE_STOPPED');
    expect(refused.message).toBe('stage "counter" was stopped; the call at offsets 0 was refused');
  });

  it('stop() leaves no handle or timer behind, also with a call in flight, and is idempotent', async () => {
    await settle();
    const before = activeResources();
    const thread = new ThreadRunner({ stage: stuck, node: 'stuck', log: pino({ level: 'silent' }) });
    await thread.start();
    expect((await thread.run(batchOf(['a']), undefined)).values).toEqual(['a']);
    const inFlight = failure(thread.run(batchOf(['spin'], 1), undefined));
    // A call in flight holds the worker's port (and a timer): the check does see a busy worker.
    expect(leakedSince(before)).toMatchObject({ MessagePort: 1 });
    await thread.stop();
    const abandoned = (await inFlight) as StageCallError;
    expect(abandoned.code).toBe('STAGE_STOPPED');
    expect(abandoned.message).toContain('the call was abandoned');
    await thread.stop();
    await settle();
    expect(leakedSince(before)).toEqual({});

    // The same after a timeout: the dead worker and its timer are gone once stop() resolves.
    await thread.start();
    expect(codeOf(await failure(thread.run(batchOf(['spin']), undefined)))).toBe('STAGE_TIMEOUT');
    await thread.stop();
    await settle();
    expect(leakedSince(before)).toEqual({});
  });
});

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const distRunner = join(root, 'dist/src/isolation/thread-runner.js');
const distFresh =
  existsSync(distRunner) &&
  statSync(distRunner).mtimeMs >= statSync(join(root, 'src/isolation/thread-runner.ts')).mtimeMs &&
  statSync(join(root, 'dist/src/isolation/stage-worker.js')).mtimeMs >= statSync(join(root, 'src/isolation/stage-worker.ts')).mtimeMs;

describe('ThreadRunner outside vitest', () => {
  // dist/ is built by `npm test` (its pretest step); run `npm run build` first when running vitest directly.
  it('works from the compiled dist/ with a JavaScript stage module, without tsx', async () => {
    expect(distFresh, 'dist/ must be built from the current sources: run `npm run build`').toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-iso-'));
    try {
      const stageUrl = pathToFileURL(join(root, 'dist/src/stage.js')).href;
      await writeFile(
        join(dir, 'stage.mjs'),
        `import { defineStage } from ${JSON.stringify(stageUrl)};\n` +
          `export const double = defineStage({ name: 'double', isolation: 'thread', module: import.meta.url, timeoutMs: 200,\n` +
          `  process: (n) => { if (n < 0) for (;;) {} if (n === 13) throw new Error('thirteen'); return { emit: [n * 2] }; } });\n`,
      );
      await writeFile(
        join(dir, 'host.mjs'),
        `import { pino } from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/pino/pino.js')).href)};\n` +
          `import { ThreadRunner } from ${JSON.stringify(pathToFileURL(distRunner).href)};\n` +
          `import { double } from './stage.mjs';\n` +
          `const runner = new ThreadRunner({ stage: double, node: 'double', log: pino({ level: 'silent' }) });\n` +
          `await runner.start();\n` +
          `const ok = await runner.run({ values: [1, 2], offsets: [0, 1] }, undefined);\n` +
          `const bad = await runner.run({ values: [1, 13, 3], offsets: [0, 1, 2] }, undefined).catch((e) => e);\n` +
          `const stuck = await runner.run({ values: [5, -1, 6], offsets: [3, 4, 5] }, undefined).catch((e) => e);\n` +
          `await runner.stop();\n` +
          `console.log(JSON.stringify({ ok: ok.values, bad: [bad.name, bad.error.code, bad.committed.values, bad.rest.values], stuck: [stuck.name, stuck.error.code, stuck.rest.values] }));\n`,
      );
      // NODE_PATH and the cwd give no way to tsx: the worker must start from the .js entry alone.
      const { stdout } = await exec(process.execPath, [join(dir, 'host.mjs')], { cwd: dir, timeout: 20_000 });
      expect(JSON.parse(stdout)).toEqual({ ok: [2, 4], bad: ['BatchFailure', 'STAGE_CALL_FAILED', [2], [3]], stuck: ['BatchFailure', 'STAGE_TIMEOUT', [5, 6]] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('works from the TypeScript sources run by tsx (node --import tsx)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-iso-'));
    try {
      const src = (path: string) => JSON.stringify(pathToFileURL(join(root, path)).href);
      // A .ts host outside the project would not find tsx's tsconfig; a .mts file is ESM wherever it is.
      await writeFile(
        join(dir, 'host.mts'),
        `import { pino } from ${src('node_modules/pino/pino.js')};\n` +
          `import { ThreadRunner } from ${src('src/isolation/thread-runner.ts')};\n` +
          `import { counter } from ${src('test/isolation/fixtures/stages.ts')};\n` +
          `const runner = new ThreadRunner({ stage: counter, node: 'counter', log: pino({ level: 'silent' }) });\n` +
          `await runner.start();\n` +
          `const ok = await runner.run({ values: [1, 2], offsets: [0, 1] }, counter.initialState());\n` +
          `await runner.stop();\n` +
          `console.log(JSON.stringify(ok));\n`,
      );
      const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(dir, 'host.mts')], { cwd: root, timeout: 20_000 });
      expect(JSON.parse(stdout)).toMatchObject({ state: { n: 2, sum: 3 }, values: [2, 4], offsets: [0, 1] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
