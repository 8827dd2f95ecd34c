// Dead letters at scale: N events (STEADFAST_FAULT_DLQ_EVENTS, default 100,000; `npm run test:fault`
// runs 1,000,000) through a stage that fails every event whose id ends in 3 (10 %, the same ones
// every run) with `degraded: 'deadLetter'`: processed + dead-lettered = N exactly, each event in
// exactly one of the two. Then the fault is fixed and the letters are replayed, once through the
// API (`pipeline.replay()` while running) and once through the CLI (`steadfast dlq replay <dir>`
// marks them, the next start re-injects them): every letter reaches the sink and the stage state
// exactly once, and once a checkpoint covers the replay, the store holds no letter any more.
// Behaviour under test: docs/checkpointing.md "Dead letters", docs/stage-resilience.md.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { StoredDeadLetter } from '../../src/checkpoint/types.js';
import { createPipeline, defineStage, fromAsyncIterable, fromIterable, type Pipeline, type SteadfastError } from '../../src/index.js';

const EVENTS = Number((process.env.STEADFAST_FAULT_DLQ_EVENTS ?? '100000').replaceAll('_', ''));
if (!Number.isSafeInteger(EVENTS) || EVENTS < 10 || EVENTS % 10 !== 0) throw new Error(`STEADFAST_FAULT_DLQ_EVENTS must be a multiple of 10, got "${process.env.STEADFAST_FAULT_DLQ_EVENTS}"`);
const FAILING = EVENTS / 10;
/** Generous: the 1M form takes tens of seconds on a loaded 2-core machine. */
const TIMEOUT_MS = 60_000 + EVENTS / 5;
const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-dlq-scale-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fails = (id: number): boolean => id % 10 === 3;

/** The stage: counts and sums the ids it processed; while `fault.on`, fails the ids ending in 3. */
function charge(fault: { on: boolean }) {
  return defineStage({
    name: 'charge',
    initialState: () => ({ n: 0, sum: 0 }),
    // Set explicitly, not left to defaults: no retry delay, letters instead of restarts.
    retry: { maxAttempts: 2, backoff: 'constant', baseMs: 0 },
    degraded: 'deadLetter',
    onFailure: 'resume',
    process: (id: number, state: { n: number; sum: number }) => {
      if (fault.on && fails(id)) throw new Error(`card declined for ${id}`);
      return { state: { n: state.n + 1, sum: state.sum + id }, emit: [id] };
    },
  });
}

/** A sink counting how often each id arrived. */
function countingSink() {
  const seen = new Uint8Array(EVENTS);
  const tally = { delivered: 0, outOfRange: 0 };
  const write = (id: number): void => {
    tally.delivered++;
    if (!Number.isInteger(id) || id < 0 || id >= EVENTS) tally.outOfRange++;
    else seen[id] = Math.min(255, (seen[id] as number) + 1);
  };
  /** Ids by how often they arrived, checked against `expected` (how often each id should have arrived). */
  const mismatches = (expected: (id: number) => number): string[] => {
    const wrong: string[] = [];
    for (let id = 0; id < EVENTS && wrong.length < 10; id++) if (seen[id] !== expected(id)) wrong.push(`${id}: ${seen[id]}× (expected ${expected(id)})`);
    return wrong;
  };
  return { write, tally, mismatches };
}

/** The letters of a directory, read with a read-only store. */
async function storedLetters(at: string, pipeline: string): Promise<{ letters: StoredDeadLetter[]; unreadable: number }> {
  const store = createCheckpointStore({ dir: at, readOnly: true });
  try {
    const reads = await store.deadLetters(pipeline);
    return { letters: reads.flatMap((read) => (read.ok ? [read.value] : [])), unreadable: reads.filter((read) => !read.ok).length };
  } finally {
    await store.close();
  }
}

/** Offsets of letters that are not exactly the failing ids, once each, with their own event. */
function letterMismatches(letters: readonly StoredDeadLetter[]): string[] {
  const wrong: string[] = [];
  const offsets = new Set<number>();
  for (const letter of letters) {
    if (letter.stage !== 'charge' || letter.event !== letter.offset || !fails(letter.offset) || offsets.has(letter.offset)) wrong.push(`${letter.key}: event ${String(letter.event)}`);
    offsets.add(letter.offset);
    if (wrong.length >= 10) break;
  }
  return wrong;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sumTo = (n: number): number => (n * (n - 1)) / 2;
const timings: string[] = [];
afterAll(() => {
  // How long each phase took: the figures the 1M run (`npm run test:fault`) is reported with.
  if (timings.length > 0) process.stderr.write(`dead letters at scale, ${EVENTS.toLocaleString('en-US')} events: ${timings.join('; ')}\n`);
});

describe(`dead letters at scale: ${EVENTS.toLocaleString('en-US')} events, 10 % failing`, () => {
  it('processed + dead-lettered = all events, and pipeline.replay() after the fix brings each letter through once', { timeout: TIMEOUT_MS * 3 }, async () => {
    const fault = { on: true };
    const sink = countingSink();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The source stays open after its last event, so that the pipeline is still running for the replay.
    async function* ids(): AsyncGenerator<number> {
      for (let id = 0; id < EVENTS; id++) yield id;
      await gate;
    }
    const errors: Record<string, number> = {};
    const pipeline: Pipeline = createPipeline({
      name: 'charges',
      source: fromAsyncIterable(ids()),
      stages: [charge(fault)],
      sink: sink.write,
      logLevel: 'silent',
      onError: (error: SteadfastError) => {
        errors[error.code] = (errors[error.code] ?? 0) + 1;
      },
      checkpoint: { dir: join(dir, 'api'), everyEvents: 1_000 },
    });
    const started = performance.now();
    await pipeline.start();
    const resilience = () => pipeline.stats().stages.charge?.resilience;
    await until(() => sink.tally.delivered === EVENTS - FAILING && resilience()?.deadLetters === FAILING, `${EVENTS - FAILING} delivered and ${FAILING} dead letters`);
    const letters = await pipeline.deadLetters();
    timings.push(`API: first pass ${Math.round(performance.now() - started)} ms`);

    expect(pipeline.stats().source.events).toBe(EVENTS);
    expect(letters).toHaveLength(FAILING);
    expect(sink.tally.delivered + letters.length).toBe(EVENTS);
    expect(letterMismatches(letters)).toEqual([]);
    expect(sink.mismatches((id) => (fails(id) ? 0 : 1))).toEqual([]);
    expect(sink.tally.outOfRange).toBe(0);
    expect(letters[0]).toMatchObject({ pipeline: 'charges', stage: 'charge', attempts: 2, error: { message: expect.stringMatching(/card declined/) } });
    expect(pipeline.stageState<{ n: number }>('charge').n).toBe(EVENTS - FAILING);

    // The fault is fixed; the letters go back into the stage they failed in.
    fault.on = false;
    const replayStarted = performance.now();
    expect(await pipeline.replay()).toBe(FAILING);
    await until(() => sink.tally.delivered >= EVENTS, `the ${FAILING} replayed letters at the sink`);
    timings.push(`API: replay ${Math.round(performance.now() - replayStarted)} ms`);
    await pipeline.checkpoint();
    await until(async () => (await pipeline.deadLetters()).length === 0, 'no letters left once a checkpoint covers the replay');
    // Nothing came through twice, before or after the checkpoint.
    await pipeline.checkpoint();
    expect(sink.mismatches(() => 1)).toEqual([]);
    expect(sink.tally.delivered).toBe(EVENTS);
    expect(pipeline.stageState('charge')).toEqual({ n: EVENTS, sum: sumTo(EVENTS) });
    release();
    await pipeline.done;
    // onError heard each letter once (DEAD_LETTER), and nothing else.
    expect(errors).toEqual({ DEAD_LETTER: FAILING });
    expect(await storedLetters(join(dir, 'api'), 'charges')).toEqual({ letters: [], unreadable: 0 });
  });

  it('steadfast dlq replay <dir> marks the letters, and the next start re-injects each once', { timeout: TIMEOUT_MS * 3 }, async () => {
    const at = join(dir, 'cli');
    const events = Array.from({ length: EVENTS }, (_, id) => id);
    const broken = countingSink();
    const first = createPipeline({ name: 'billing', source: fromIterable(events), stages: [charge({ on: true })], sink: broken.write, logLevel: 'silent', onError: () => {}, checkpoint: { dir: at, everyEvents: 1_000 } });
    let started = performance.now();
    const firstStats = await first.run();
    timings.push(`CLI: first run ${Math.round(performance.now() - started)} ms`);
    expect(firstStats.source.events).toBe(EVENTS);
    const stored = await storedLetters(at, 'billing');
    expect(stored.unreadable).toBe(0);
    expect(stored.letters).toHaveLength(FAILING);
    expect(broken.tally.delivered + stored.letters.length).toBe(EVENTS);
    expect(letterMismatches(stored.letters)).toEqual([]);
    expect(broken.mismatches((id) => (fails(id) ? 0 : 1))).toEqual([]);

    // The operator's step, with the real binary.
    const marked = await promisify(execFile)(process.execPath, [bin, 'dlq', 'replay', at, '--pipeline', 'billing'], { cwd: root, env: { PATH: process.env.PATH ?? '' } });
    expect(marked.stdout).toBe(`marked ${FAILING} dead letters for replay; the pipeline re-injects marked letters at its next start\n`);
    expect((await storedLetters(at, 'billing')).letters.every((letter) => letter.replay === true)).toBe(true);

    // The fix deployed: the same module starts again on the same directory.
    const fixed = countingSink();
    const second = createPipeline({ name: 'billing', source: fromIterable(events), stages: [charge({ on: false })], sink: fixed.write, logLevel: 'silent', checkpoint: { dir: at, everyEvents: 1_000 } });
    started = performance.now();
    const secondStats = await second.run();
    timings.push(`CLI: replaying run ${Math.round(performance.now() - started)} ms`);
    expect(secondStats.source.events).toBe(0); // the first run committed the source's end
    expect(fixed.mismatches((id) => (fails(id) ? 1 : 0))).toEqual([]);
    expect(fixed.tally.delivered).toBe(FAILING);
    expect(second.stageState('charge')).toEqual({ n: EVENTS, sum: sumTo(EVENTS) });
    expect(await storedLetters(at, 'billing')).toEqual({ letters: [], unreadable: 0 });
    const list = await promisify(execFile)(process.execPath, [bin, 'dlq', 'list', at], { cwd: root, env: { PATH: process.env.PATH ?? '' } });
    expect(list.stdout).toBe(`no dead letters in ${at}\n`);
  });
});
