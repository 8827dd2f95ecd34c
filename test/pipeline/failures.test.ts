import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  StageCallError,
  createPipeline,
  defineStage,
  fromIterable,
  fromNdjson,
  isSteadfastError,
  toArray,
  toFunction,
  type SourceParseError,
  type SteadfastError,
} from '../../src/index.js';

/** A counting stage that fails on some events and resumes (the pipeline keeps it running with its state). */
const counter = (failOn: (n: number) => boolean, mode: 'throw' | 'reject' | 'malformed' = 'throw') =>
  defineStage({
    name: 'counter',
    onFailure: 'resume',
    initialState: () => ({ n: 0, sum: 0 }),
    process: (n: number, s: { n: number; sum: number }) => {
      if (failOn(n)) {
        if (mode === 'throw') throw new Error(`bad ${n}`);
        if (mode === 'reject') return Promise.reject(new Error(`bad ${n}`));
        return { emit: [n] } as unknown as { state: { n: number; sum: number } };
      }
      return { state: { n: s.n + 1, sum: s.sum + n }, emit: [n] };
    },
  });

const input = Array.from({ length: 1000 }, (_, i) => i);
const bad = (n: number) => n % 100 === 37;

describe('failures of a stage that resumes (onFailure: resume)', () => {
  for (const mode of ['throw', 'reject'] as const) {
    it(`reports a stage call that ${mode}s, keeps the previous state and goes on with the next event`, async () => {
      const errors: SteadfastError[] = [];
      const sink = toArray<number>();
      const pipeline = createPipeline({
        name: `fail-${mode}`,
        source: fromIterable(input),
        stages: [counter(bad, mode)],
        sink,
        onError: (e) => errors.push(e),
        logLevel: 'silent',
      });
      const stats = await pipeline.run();
      const good = input.filter((n) => !bad(n));
      expect(sink.items).toEqual(good);
      expect(pipeline.stageState('counter')).toEqual({ n: good.length, sum: good.reduce((a, b) => a + b, 0) });
      expect(errors).toHaveLength(10);
      for (const [i, error] of errors.entries()) {
        expect(error).toBeInstanceOf(StageCallError);
        expect(error.code).toBe('STAGE_CALL_FAILED');
        const call = error as StageCallError;
        expect(call.stage).toBe('counter');
        expect(call.offsets).toEqual([100 * i + 37]);
        expect(call.events).toEqual([100 * i + 37]);
        expect((call.cause as Error).message).toBe(`bad ${100 * i + 37}`);
      }
      expect(stats.stages.counter?.failedEvents).toBe(10);
      // A call goes on past a failed event: no call failed as a whole.
      expect(stats.stages.counter?.failedCalls).toBe(0);
      expect(stats.stages.counter?.eventsIn).toBe(1000);
      expect(stats.errors).toBe(10);
      expect(stats.status).toBe('stopped');
    });
  }

  it('reports a malformed result as STAGE_RESULT_INVALID with the offset', async () => {
    const errors: SteadfastError[] = [];
    const pipeline = createPipeline({
      name: 'malformed',
      source: fromIterable(input),
      stages: [counter((n) => n === 500, 'malformed')],
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    });
    await pipeline.run();
    expect(errors.map((e) => e.code)).toEqual(['STAGE_RESULT_INVALID']);
    expect((errors[0] as StageCallError).offsets).toEqual([500]);
    expect(errors[0]?.message).toMatch(/expected \{ state \}/);
    expect(pipeline.stageState('counter')).toEqual({ n: 999, sum: input.reduce((a, b) => a + b, 0) - 500 });
  });

  it('rejects results that are not objects or whose emit is not an array', async () => {
    const errors: SteadfastError[] = [];
    const weird = defineStage({
      name: 'weird',
      onFailure: 'resume',
      process: (n: number) => (n === 1 ? (null as never) : n === 2 ? ({ emit: 'x' } as never) : { state: undefined, emit: [n] }),
    });
    const sink = toArray<number>();
    await createPipeline({ name: 'weird', source: fromIterable([0, 1, 2, 3]), stages: [weird], sink, onError: (e) => errors.push(e), logLevel: 'silent' }).run();
    expect(sink.items).toEqual([0, 3]);
    expect(errors.map((e) => [e.code, (e as StageCallError).offsets[0]])).toEqual([
      ['STAGE_RESULT_INVALID', 1],
      ['STAGE_RESULT_INVALID', 2],
    ]);
  });

  it('reports a failed processBatch with every event of the batch and keeps the state', async () => {
    const errors: StageCallError[] = [];
    const batchy = defineStage({
      name: 'batchy',
      onFailure: 'resume',
      initialState: 0,
      maxBatch: 10,
      processBatch: (ns: readonly number[], s: number) => {
        if (ns.includes(55)) throw new Error('poison');
        return { state: s + ns.length };
      },
    });
    const pipeline = createPipeline({
      name: 'batchfail',
      source: fromIterable(Array.from({ length: 100 }, (_, i) => i)),
      stages: [batchy],
      onError: (e) => errors.push(e as StageCallError),
      logLevel: 'silent',
    });
    await pipeline.run();
    expect(errors).toHaveLength(1);
    const failed = errors[0] as StageCallError;
    expect(failed.offsets).toContain(55);
    expect(failed.events).toEqual(failed.offsets);
    expect(pipeline.stageState('batchy')).toBe(100 - failed.events.length);
  });

  it('reports a sink write failure with the values that were not written', async () => {
    const errors: StageCallError[] = [];
    const written: number[] = [];
    const sink = toFunction((n: number) => {
      if (n === 3) throw new Error('disk full');
      written.push(n);
    });
    await createPipeline({
      name: 'sinkfail',
      source: fromIterable([1, 2, 3, 4]),
      stages: [counter(() => false)],
      sink,
      onError: (e) => errors.push(e as StageCallError),
      logLevel: 'silent',
    }).run();
    expect(written).toEqual([1, 2, 4]);
    expect(errors.map((e) => [e.code, e.stage, e.events])).toEqual([['SINK_WRITE_FAILED', 'sink', [3]]]);
  });

  it('survives an onError hook that throws', async () => {
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'hookthrows',
      source: fromIterable(input),
      stages: [counter(bad)],
      sink,
      onError: () => {
        throw new Error('hook bug');
      },
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    expect(sink.items).toHaveLength(990);
    expect(stats.errors).toBe(10);
  });

  describe('with an NDJSON source', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'steadfast-ndjson-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('sends a malformed line to onError as SOURCE_PARSE_FAILED with its line number and reads on', async () => {
      const file = join(dir, 'in.ndjson');
      await writeFile(file, '{"n":1}\n{"n":2}\n{oops\n\n{"n":5}\n');
      const errors: SteadfastError[] = [];
      const sink = toArray<{ n: number }>();
      const pass = defineStage({ name: 'pass', process: (e: { n: number }) => ({ state: undefined, emit: [e] }) });
      const stats = await createPipeline({ name: 'nd', source: fromNdjson(file), stages: [pass], sink, onError: (e) => errors.push(e), logLevel: 'silent' }).run();
      expect(sink.items).toEqual([{ n: 1 }, { n: 2 }, { n: 5 }]);
      expect(sink.offsets).toEqual([1, 2, 5]);
      expect(errors).toHaveLength(1);
      expect(isSteadfastError(errors[0], 'SOURCE_PARSE_FAILED')).toBe(true);
      expect((errors[0] as SourceParseError).line).toBe(3);
      expect(stats.source.errors).toBe(1);
      expect(stats.status).toBe('stopped');
    });
  });
});
