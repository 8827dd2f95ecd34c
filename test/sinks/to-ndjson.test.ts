import type * as FsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, SinkWriteError, isSteadfastError } from '../../src/core/errors.js';
import type { Sink } from '../../src/sinks/sink.js';
import { toNdjson } from '../../src/sinks/to-ndjson.js';

/** Every FileHandle the sink opens, so that tests can watch sync() and close(). */
const opened = vi.hoisted(() => [] as FileHandle[]);

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>): Promise<FileHandle> => {
      const handle = await actual.open(...args);
      opened.push(handle);
      return handle;
    },
  };
});

let dir: string;
let sinks: Sink<unknown>[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-ndjson-sink-'));
  sinks = [];
  opened.length = 0;
});

afterEach(async () => {
  for (const sink of sinks) await sink.close?.();
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function openSink(path: string): Promise<Sink<unknown>> {
  const sink = toNdjson<unknown>(path);
  sinks.push(sink);
  await sink.open?.();
  return sink;
}

async function failureOf(run: () => void | Promise<void>): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('toNdjson', () => {
  it('writes one JSON line per value, in order, across batches', async () => {
    const path = join(dir, 'out.ndjson');
    const sink = await openSink(path);
    await sink.write([{ id: 1, tags: ['a'] }, 'two\nlines', 3], [0, 1, 2]);
    await sink.write([null, { nested: { é: '👍' } }], [3, 4]);
    await sink.close?.();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).toEqual(['{"id":1,"tags":["a"]}', '"two\\nlines"', '3', 'null', '{"nested":{"é":"👍"}}', '']);
    expect(lines.slice(0, -1).map((line) => JSON.parse(line) as unknown)).toEqual([
      { id: 1, tags: ['a'] },
      'two\nlines',
      3,
      null,
      { nested: { é: '👍' } },
    ]);
  });

  it('appends to an existing file instead of replacing it', async () => {
    const path = join(dir, 'out.ndjson');
    await writeFile(path, '{"old":true}\n');
    const sink = await openSink(path);
    await sink.write([{ new: 1 }], [0]);
    await sink.close?.();
    const again = await openSink(path);
    await again.write([{ new: 2 }], [1]);
    await again.close?.();
    expect(await readFile(path, 'utf8')).toBe('{"old":true}\n{"new":1}\n{"new":2}\n');
  });

  it('starts the file empty with append: false', async () => {
    const path = join(dir, 'out.ndjson');
    await writeFile(path, '"old"\n');
    const sink = toNdjson<unknown>(path, { append: false });
    sinks.push(sink);
    await sink.open?.();
    await sink.write(['new'], [0]);
    await sink.close?.();
    expect(await readFile(path, 'utf8')).toBe('"new"\n');
  });

  it('creates missing parent directories', async () => {
    const path = join(dir, 'a', 'b', 'out.ndjson');
    const sink = await openSink(path);
    await sink.write(['x'], [0]);
    await sink.close?.();
    expect(await readFile(path, 'utf8')).toBe('"x"\n');
  });

  it('writes nothing for an empty batch', async () => {
    const path = join(dir, 'out.ndjson');
    const sink = await openSink(path);
    await sink.write([], []);
    await sink.close?.();
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('fsyncs and then closes its file on close(), with every line in the file', async () => {
    const path = join(dir, 'out.ndjson');
    const sink = await openSink(path);
    expect(opened).toHaveLength(1);
    const handle = opened[0] as FileHandle;
    const sync = vi.spyOn(handle, 'sync');
    const close = vi.spyOn(handle, 'close');
    const values = Array.from({ length: 500 }, (_, i) => ({ i }));
    await sink.write(values, values.map((_, i) => i));
    await sink.close?.();
    expect(sync).toHaveBeenCalledTimes(1);
    expect(close).toHaveBeenCalledTimes(1);
    expect(sync.mock.invocationCallOrder[0]).toBeLessThan(close.mock.invocationCallOrder[0] as number);
    expect(handle.fd).toBe(-1);
    expect(await readFile(path, 'utf8')).toBe(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
  });

  it('tolerates close() twice and close() without open()', async () => {
    const sink = await openSink(join(dir, 'out.ndjson'));
    await sink.close?.();
    await expect(Promise.resolve(sink.close?.())).resolves.toBeUndefined();
    await expect(Promise.resolve(toNdjson(join(dir, 'never.ndjson')).close?.())).resolves.toBeUndefined();
  });

  it('reports values JSON cannot encode (undefined, BigInt, a cycle) as SinkWriteError, and writes the others', async () => {
    const path = join(dir, 'out.ndjson');
    const sink = await openSink(path);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const error = await failureOf(() => sink.write([1, 10n, 2, cyclic, 3, undefined, 4], [10, 11, 12, 13, 14, 15, 16]));
    expect(error).toBeInstanceOf(SinkWriteError);
    const failure = error as SinkWriteError;
    expect(failure.code).toBe('SINK_WRITE_FAILED');
    expect(failure.offsets).toEqual([11, 13, 15]);
    expect(failure.events).toHaveLength(3);
    expect(failure.events[0]).toBe(10n);
    expect(failure.events[1]).toBe(cyclic);
    expect(failure.events[2]).toBeUndefined();
    expect(failure.message).toContain('offset 11');
    expect(failure.message).toContain(path);
    expect(failure.message).toContain('BigInt');
    await sink.close?.();
    expect(await readFile(path, 'utf8')).toBe('1\n2\n3\n4\n');
  });

  it('reports functions and symbols, which JSON turns into nothing', async () => {
    const path = join(dir, 'out.ndjson');
    const sink = await openSink(path);
    const error = await failureOf(() => sink.write(['ok', () => 1, Symbol('s')], [0, 1, 2]));
    expect((error as SinkWriteError).offsets).toEqual([1, 2]);
    expect((error as SinkWriteError).message).toContain('offset 1');
    expect((error as SinkWriteError).message).toContain('JSON cannot represent it');
    await sink.close?.();
    expect(await readFile(path, 'utf8')).toBe('"ok"\n');
  });

  it('does not give the first unencodable value the reason of a later one', async () => {
    const sink = await openSink(join(dir, 'out.ndjson'));
    const error = await failureOf(() => sink.write([undefined, 10n], [0, 1]));
    expect((error as SinkWriteError).offsets).toEqual([0, 1]);
    expect((error as SinkWriteError).message).not.toMatch(/offset 0: Do not know how to serialize a BigInt/);
  });

  it('rejects open() on a path under a regular file with STAGE_OPEN_FAILED', async () => {
    const blocker = join(dir, 'plain-file');
    await writeFile(blocker, 'x');
    const target = join(blocker, 'out.ndjson');
    const sink = toNdjson(target);
    const error = await failureOf(() => sink.open?.());
    expect(isSteadfastError(error, 'STAGE_OPEN_FAILED')).toBe(true);
    expect((error as Error).message).toContain(target);
    expect((error as Error).cause).toMatchObject({ code: 'ENOTDIR' });
    const deeper = toNdjson(join(blocker, 'sub', 'out.ndjson'));
    const deeperError = await failureOf(() => deeper.open?.());
    expect(isSteadfastError(deeperError, 'STAGE_OPEN_FAILED')).toBe(true);
    expect(opened).toHaveLength(0);
  });

  it('rejects a write before open() with PIPELINE_STATE_INVALID', async () => {
    const sink = toNdjson(join(dir, 'out.ndjson'));
    const error = await failureOf(() => sink.write([1], [0]));
    expect(isSteadfastError(error, 'PIPELINE_STATE_INVALID')).toBe(true);
  });

  it('rejects an empty or non-string path with a ConfigError naming it', () => {
    for (const path of ['', undefined, 7]) {
      let caught: unknown;
      try {
        toNdjson(path as unknown as string);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe('toNdjson(path)');
      expect((caught as ConfigError).value).toBe(path);
    }
  });
});
