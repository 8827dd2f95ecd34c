import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import type { StageCallError} from '../../src/index.js';
import { createPipeline, defineStage, fromIterable, toArray, type SteadfastError } from '../../src/index.js';
import { stuck } from '../isolation/fixtures/runaway.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

const fast = { backoff: { minMs: 1, maxMs: 10, factor: 2, jitter: 0, resetAfterMs: 60_000 } };
const input = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Counts events; throws on the ones `fails` picks (each at most once when `once` is set). */
function counter(fails: (n: number) => boolean, once = true) {
  const failed = new Set<number>();
  return defineStage({
    name: 'counter',
    onFailure: 'restart',
    initialState: () => ({ seen: 0 }),
    process: (n: number, s: { seen: number }) => {
      if (fails(n) && !(once && failed.has(n))) {
        failed.add(n);
        throw new Error(`bad ${n}`);
      }
      return { state: { seen: s.seen + 1 }, emit: [n] };
    },
  });
}

describe('a supervised pipeline', () => {
  it('restarts a stage whose call throws: the failing event is reported, the others all arrive, the state starts over', async () => {
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'restart',
      source: fromIterable(input(1000)),
      stages: [counter((n) => n === 600)],
      sink,
      supervision: fast,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    expect(sink.items).toEqual(input(1000).filter((n) => n !== 600));
    expect(errors.map((e) => [e.code, (e as StageCallError).offsets])).toEqual([['STAGE_CALL_FAILED', [600]]]);
    expect(stats.stages.counter?.restarts).toBe(1);
    expect(stats.supervision.restarts).toBe(1);
    // The new incarnation started from initialState: it counted only the events after the failing one.
    expect(pipeline.stageState<{ seen: number }>('counter').seen).toBe(399);
    expect(stats.status).toBe('stopped');
  });

  it('fails the run with RESTART_INTENSITY_EXCEEDED when a stage keeps crashing, calling onEscalate, and leaves nothing behind', async () => {
    const before = activeResources();
    const escalations: Escalation[] = [];
    const pipeline = createPipeline({
      name: 'giveup',
      source: fromIterable(input(100)),
      stages: [counter((n) => n >= 10, false)],
      sink: toArray(),
      supervision: { ...fast, maxRestarts: 3, onEscalate: (e) => escalations.push(e) },
      onError: () => {},
      logLevel: 'silent',
    });
    await pipeline.start();
    const error = await pipeline.done.then(
      () => undefined,
      (e: SteadfastError) => e,
    );
    expect(error?.code).toBe('RESTART_INTENSITY_EXCEEDED');
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ supervisor: 'giveup', reason: 'intensity', offender: 'counter' });
    expect(pipeline.status).toBe('failed');
    expect(pipeline.stats().stages.counter?.restarts).toBe(3);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('restarts every stage under one_for_all and still delivers each good event exactly once', async () => {
    const sink = toArray<number>();
    const pass = (name: string) =>
      defineStage({
        name,
        maxBatch: 7,
        process: async (n: number) => {
          await Promise.resolve();
          return { emit: [n] };
        },
      });
    const pipeline = createPipeline({
      name: 'allforone',
      source: fromIterable(input(2000)),
      stages: [pass('a'), counter((n) => n % 500 === 250), pass('c')],
      sink,
      supervision: { ...fast, strategy: 'one_for_all' },
      onError: () => {},
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    expect([...sink.items].sort((x, y) => x - y)).toEqual(input(2000).filter((n) => n % 500 !== 250));
    expect(stats.stages.counter?.restarts).toBe(4);
    expect(stats.stages.a?.restarts).toBe(4);
    expect(stats.stages.c?.restarts).toBe(4);
  });

  it('times out an async call that does not settle (STAGE_TIMEOUT), aborts its signal, and restarts the stage', async () => {
    const errors: SteadfastError[] = [];
    let aborted = 0;
    const hangs = defineStage({
      name: 'hangs',
      onFailure: 'restart',
      timeoutMs: 30,
      process: (n: number, _s: undefined, ctx) => {
        if (n !== 5) return Promise.resolve({ emit: [n] });
        ctx.signal.addEventListener('abort', () => aborted++);
        return new Promise<{ emit: number[] }>(() => {});
      },
    });
    const sink = toArray<number>();
    const stats = await createPipeline({
      name: 'timeout',
      source: fromIterable(input(10)),
      stages: [hangs],
      sink,
      supervision: fast,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    }).run();
    expect(sink.items).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9]);
    expect(errors.map((e) => [e.code, (e as StageCallError).offsets])).toEqual([['STAGE_TIMEOUT', [5]]]);
    expect(aborted).toBe(1);
    expect(stats.stages.hangs?.restarts).toBe(1);
  });

  it('stops a thread stage stuck in synchronous code by its timeout, goes on with a fresh worker (onFailure default: resume), and finishes the run', async () => {
    const errors: SteadfastError[] = [];
    const sink = toArray<string>();
    const stats = await createPipeline({
      name: 'spin',
      source: fromIterable(['a', 'b', 'spin', 'c', 'd']),
      stages: [stuck],
      sink,
      mode: 'debug',
      supervision: fast,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    }).run();
    expect(sink.items).toEqual(['a', 'b', 'c', 'd']);
    expect(errors.map((e) => [e.code, (e as StageCallError).events])).toEqual([['STAGE_TIMEOUT', ['spin']]]);
    expect(stats.stages.stuck?.restarts).toBe(0);
  });

  it('keeps resuming a stage with onFailure: resume (no restart)', async () => {
    const resumes = defineStage({
      name: 'resumes',
      onFailure: 'resume',
      initialState: () => 0,
      process: (n: number, s: number) => {
        if (n === 3) throw new Error('three');
        return { state: s + 1, emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'resume', source: fromIterable(input(6)), stages: [resumes], onError: () => {}, logLevel: 'silent' });
    const stats = await pipeline.run();
    expect(pipeline.stageState('resumes')).toBe(5);
    expect(stats.stages.resumes?.restarts).toBe(0);
  });

  it('exits the process with the asked code after the supervisor gave up, once the sink is flushed (exitOnEscalate)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-exit-'));
    try {
      const out = join(dir, 'out.ndjson');
      const script = new URL('./fixtures/exit-on-escalate.ts', import.meta.url).pathname;
      const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', script, out], { timeout: 20_000 }, (error, stdout) => {
          resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? null, stdout });
        });
      });
      expect(result.code).toBe(7);
      expect(result.stdout).not.toContain('still running');
      expect((await readFile(out, 'utf8')).trim().split('\n').map(Number)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad supervision options when the pipeline is created', () => {
    const build = (supervision: unknown) => () =>
      createPipeline({ name: 'p', source: fromIterable([1]), stages: [counter(() => false)], supervision: supervision as never });
    expect(build({ maxRestarts: -1 })).toThrow(/supervisor.maxRestarts/);
    expect(build({ strategy: 'simple_one_for_one' })).toThrow(/pipeline.supervision.strategy/);
    expect(build({ backoff: { jitter: 2 } })).toThrow(/supervisor.backoff.jitter/);
    expect(build({ children: [] })).toThrow(/pipeline.supervision.children/);
    expect(build({ exitOnEscalate: 0 })).toThrow(/pipeline.supervision.exitOnEscalate/);
  });
});
