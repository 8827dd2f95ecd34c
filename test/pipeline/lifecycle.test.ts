import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPipeline,
  defineStage,
  fromAsyncIterable,
  fromIterable,
  fromNdjson,
  isSteadfastError,
  pushSource,
  toArray,
  toNdjson,
  type SteadfastError,
} from '../../src/index.js';
import { gatedStage } from '../helpers/gated-stage.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

const pass = defineStage({ name: 'pass', process: (n: unknown) => ({ state: undefined, emit: [n] }) });
const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

async function rejection(promise: Promise<unknown>): Promise<SteadfastError> {
  try {
    await promise;
  } catch (error) {
    return error as SteadfastError;
  }
  throw new Error('expected a rejection');
}

async function* forever(): AsyncGenerator<number> {
  for (let i = 0; ; i++) {
    if (i % 100 === 0) await immediate();
    yield i;
  }
}

describe('pipeline lifecycle', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steadfast-life-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts once: a second start() is PIPELINE_STATE_INVALID', async () => {
    const pipeline = createPipeline({ name: 'once', source: fromIterable([1]), stages: [pass], logLevel: 'silent' });
    await pipeline.run();
    const error = await rejection(pipeline.start());
    expect(error.code).toBe('PIPELINE_STATE_INVALID');
  });

  it('rejects stop() with a bad timeout as CONFIG_INVALID, without stopping', async () => {
    const pipeline = createPipeline({ name: 'badstop', source: fromIterable([1]), stages: [pass], logLevel: 'silent' });
    const error = await rejection(pipeline.stop({ timeoutMs: -5 }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(pipeline.status).toBe('created');
  });

  it('stops before start without running anything', async () => {
    const pipeline = createPipeline({ name: 'never', source: fromIterable([1]), stages: [pass], logLevel: 'silent' });
    await pipeline.stop();
    expect(pipeline.status).toBe('stopped');
    await expect(pipeline.done).resolves.toMatchObject({ status: 'stopped' });
  });

  it('stops gracefully: stops the source, drains in-flight events, flushes the sink, leaves nothing behind', async () => {
    const before = activeResources();
    const out = join(dir, 'out.ndjson');
    const pipeline = createPipeline({ name: 'graceful', source: fromAsyncIterable(forever()), stages: [pass], sink: toNdjson(out), logLevel: 'silent' });
    await pipeline.start();
    for (let i = 0; i < 20; i++) await immediate();
    await pipeline.stop();
    await pipeline.stop(); // idempotent
    const stats = await pipeline.done;
    expect(stats.status).toBe('stopped');
    expect(stats.source.status).toBe('stopped');
    expect(stats.source.events).toBeGreaterThan(0);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    // Everything read from the source reached the file: nothing in flight was dropped.
    expect(lines.map(Number)).toEqual(Array.from({ length: stats.source.events }, (_, i) => i));
    expect(stats.buffered.now).toBe(0);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('appends to an existing NDJSON sink file', async () => {
    const out = join(dir, 'append.ndjson');
    await writeFile(out, '"old"\n');
    await createPipeline({ name: 'append', source: fromIterable(['a', 'b']), stages: [pass], sink: toNdjson(out), logLevel: 'silent' }).run();
    expect(await readFile(out, 'utf8')).toBe('"old"\n"a"\n"b"\n');
  });

  it('creates missing parent directories of an NDJSON sink', async () => {
    const out = join(dir, 'a', 'b', 'out.ndjson');
    await createPipeline({ name: 'mkdirs', source: fromIterable([1]), stages: [pass], sink: toNdjson(out), logLevel: 'silent' }).run();
    expect(await readFile(out, 'utf8')).toBe('1\n');
  });

  it('fails start() at once for a sink path that cannot be created (Node 20 mkdir -p loops for ever under /proc)', async () => {
    const pipeline = createPipeline({ name: 'procfs', source: fromIterable([1]), stages: [pass], sink: toNdjson('/proc/steadfast-test/x/out.ndjson'), logLevel: 'silent' });
    expect((await rejection(pipeline.start())).code).toBe('STAGE_OPEN_FAILED');
  });

  it('rejects pushes still waiting when the pipeline stops, and push() after the source ended', async () => {
    const { stage: held, open } = gatedStage('held', 2);
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'pushstop', source, stages: [held], sink, logLevel: 'silent' });
    await pipeline.start();
    const results = Array.from({ length: 10 }, (_, i) => pipeline.push(i).then(() => 'ok', (e: SteadfastError) => e.code));
    for (let i = 0; i < 5; i++) await immediate();
    const stopping = pipeline.stop();
    open();
    await stopping;
    const outcome = await Promise.all(results);
    const accepted = outcome.filter((r) => r === 'ok').length;
    expect(accepted).toBe(2);
    expect(outcome.slice(accepted)).toEqual(Array.from({ length: 10 - accepted }, () => 'PIPELINE_STOPPED'));
    expect(sink.items).toEqual(Array.from({ length: accepted }, (_, i) => i));
    expect((await rejection(pipeline.push(99))).code).toBe('SOURCE_ENDED');
  });

  it('finishes a push source when end() is called', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'pushend', source, stages: [pass], sink, logLevel: 'silent' });
    await pipeline.start();
    await Promise.all([1, 2, 3].map((n) => pipeline.push(n)));
    source.end();
    await pipeline.done;
    expect(sink.items).toEqual([1, 2, 3]);
  });

  it('refuses push() on a pipeline whose source is not a push source', async () => {
    const pipeline = createPipeline({ name: 'nopush', source: fromIterable([1]), stages: [pass], logLevel: 'silent' });
    expect((await rejection(pipeline.push(1))).code).toBe('PUSH_UNSUPPORTED');
  });

  it('drains what was read and rejects done with SOURCE_FAILED when the source throws', async () => {
    async function* breaks(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('connection reset');
    }
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'srcfail', source: fromAsyncIterable(breaks()), stages: [pass], sink, logLevel: 'silent' });
    await pipeline.start();
    const error = await rejection(pipeline.done);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toMatch(/connection reset/);
    expect(sink.items).toEqual([1, 2]);
    expect(pipeline.status).toBe('failed');
  });

  it('fails start() with STAGE_OPEN_FAILED when a sink cannot open, and closes what it opened', async () => {
    const before = activeResources();
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    const good = join(dir, 'good.ndjson');
    const pipeline = createPipeline({
      name: 'openfail',
      source: fromIterable([1, 2]),
      graph: {
        a: { stage: pass, from: 'source' },
        ok: { sink: toNdjson(good), from: 'a' },
        broken: { sink: toNdjson(join(blocker, 'out.ndjson')), from: 'a' },
      },
      logLevel: 'silent',
    });
    const error = await rejection(pipeline.start());
    expect(error.code).toBe('STAGE_OPEN_FAILED');
    expect(pipeline.status).toBe('failed');
    expect(isSteadfastError(await rejection(pipeline.done), 'STAGE_OPEN_FAILED')).toBe(true);
    expect(await readFile(good, 'utf8')).toBe('');
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('fails start() with STAGE_OPEN_FAILED when a stage initialState() throws, before reading the source', async () => {
    let read = false;
    const broken = defineStage({
      name: 'broken',
      initialState: (): number => {
        throw new Error('no config');
      },
      process: (n: number, s: number) => ({ state: s + n }),
    });
    const pipeline = createPipeline({
      name: 'initfail',
      source: fromIterable({
        *[Symbol.iterator]() {
          read = true;
          yield 1;
        },
      }),
      stages: [broken],
      logLevel: 'silent',
    });
    const error = await rejection(pipeline.start());
    expect(error.code).toBe('STAGE_OPEN_FAILED');
    expect(error.message).toMatch(/no config/);
    expect(read).toBe(false);
  });

  it('does not let an async onError that rejects become an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = defineStage({
        name: 'failing',
        process: (): { emit: number[] } => {
          throw new Error('boom');
        },
      });
      await createPipeline({
        name: 'asynchook',
        source: fromIterable([1]),
        stages: [failing],
        onError: async () => {
          throw new Error('hook rejected');
        },
        logLevel: 'silent',
      }).run();
      await settle();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails start() with SOURCE_FAILED when the NDJSON source file is missing', async () => {
    const pipeline = createPipeline({ name: 'nofile', source: fromNdjson(join(dir, 'missing.ndjson')), stages: [pass], logLevel: 'silent' });
    const error = await rejection(pipeline.start());
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toMatch(/missing\.ndjson/);
  });

  it('abandons a stage that does not drain in time: stop() rejects with STOP_TIMEOUT naming it', async () => {
    const before = activeResources();
    let aborted = false;
    const stuck = defineStage({
      name: 'stuck',
      process: (_n: number, _s: undefined, ctx) =>
        new Promise<never>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    });
    const pipeline = createPipeline({ name: 'stuck', source: fromIterable([1, 2, 3]), stages: [stuck], logLevel: 'silent' });
    await pipeline.start();
    await immediate();
    const error = await rejection(pipeline.stop({ timeoutMs: 50 }));
    expect(error.code).toBe('STOP_TIMEOUT');
    expect(error.message).toMatch(/stuck: 3/);
    expect(aborted).toBe(true);
    expect(pipeline.status).toBe('failed');
    expect((await rejection(pipeline.done)).code).toBe('STOP_TIMEOUT');
    await settle();
    expect(leakedSince(before)).toEqual({});
  });
});

describe('pipeline options', () => {
  const error = (build: () => unknown): SteadfastError & { field?: string } => {
    try {
      build();
    } catch (e) {
      return e as SteadfastError & { field?: string };
    }
    throw new Error('expected a throw');
  };

  it('names the field of every invalid option', () => {
    const source = fromIterable([1]);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'bad name!', source, stages: [pass] }, 'pipeline.name'],
      [{ name: 'p', source: [1, 2], stages: [pass] }, 'pipeline.source'],
      [{ name: 'p', source, stages: [pass], mode: 'fast' }, 'pipeline.mode'],
      [{ name: 'p', source, stages: [pass], logLevel: 'loud' }, 'pipeline.logLevel'],
      [{ name: 'p', source, stages: [pass], onError: 'log' }, 'pipeline.onError'],
      [{ name: 'p', source, stages: [pass], stopTimeoutMs: -1 }, 'pipeline.stopTimeoutMs'],
      [{ name: 'p', source, stages: [pass], sink: 'stdout' }, 'pipeline.sink'],
      [{ name: 'p', source, stages: [pass], checkpoint: { dir: '.x', everyEvents: -1 } }, 'pipeline.checkpoint.everyEvents'],
      [{ name: 'p', source, stages: [pass], checkpoint: { everyMs: 10 } }, 'pipeline.checkpoint.dir'],
      [{ name: 'p', source, stages: [pass], checkpoint: { dir: '.x', delivery: 'maybe' } }, 'pipeline.checkpoint.delivery'],
      [{ name: 'p', source, stages: [pass], checkpoint: { dir: '.x', sync: true } }, 'pipeline.checkpoint.sync'],
      [{ name: 'p', source, stages: [pass], checkpoint: { dir: '.x', interval: 5 } }, 'pipeline.checkpoint.interval'],
      [{ name: 'p', source, stages: [] }, 'stages'],
      [{ name: 'p', source, stages: [{ name: 'fake' }] }, 'stages[0]'],
    ];
    for (const [options, field] of cases) {
      const e = error(() => createPipeline(options as never));
      expect(e.code, field).toBe('CONFIG_INVALID');
      expect(e.field, field).toBe(field);
    }
  });
});
