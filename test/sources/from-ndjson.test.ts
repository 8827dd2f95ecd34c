import type * as FsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, SourceParseError, isSteadfastError, type SteadfastError } from '../../src/core/errors.js';
import { fromNdjson } from '../../src/sources/from-ndjson.js';
import type { SourceReader } from '../../src/sources/source.js';

/** Every FileHandle the source opens, so that tests can check it was closed. */
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
let readers: SourceReader<unknown>[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-ndjson-'));
  readers = [];
  opened.length = 0;
});

afterEach(async () => {
  for (const reader of readers) await reader.close();
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(text: string | Buffer): Promise<string> {
  const path = join(dir, 'events.ndjson');
  await writeFile(path, text);
  return path;
}

/** Opens the source at `path` and collects what it reports through onError. */
async function openNdjson(
  path: string,
  { fromOffset = 1, chunkBytes }: { fromOffset?: number; chunkBytes?: number } = {},
): Promise<{ reader: SourceReader<unknown>; errors: SteadfastError[] }> {
  const errors: SteadfastError[] = [];
  const source = fromNdjson(path, chunkBytes === undefined ? {} : { chunkBytes });
  const reader = await source.open({ fromOffset, onError: (error) => errors.push(error) });
  readers.push(reader);
  return { reader, errors };
}

async function readAll(reader: SourceReader<unknown>, max = 1000): Promise<{ values: unknown[]; offsets: number[] }> {
  const values: unknown[] = [];
  const offsets: number[] = [];
  for (;;) {
    const batch = await reader.read(max);
    if (batch === null) return { values, offsets };
    values.push(...batch.values);
    offsets.push(...batch.offsets);
  }
}

describe('fromNdjson', () => {
  it('reads one event per line, with its 1-based line number as offset', async () => {
    const path = await fileWith('{"id":1}\n[2]\n"three"\n4\nnull\n');
    const { reader, errors } = await openNdjson(path);
    expect(await readAll(reader)).toEqual({ values: [{ id: 1 }, [2], 'three', 4, null], offsets: [1, 2, 3, 4, 5] });
    expect(errors).toEqual([]);
  });

  it('ignores a UTF-8 byte order mark at the start of the file', async () => {
    const path = await fileWith(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"a":2}\n')]));
    const { reader, errors } = await openNdjson(path, { chunkBytes: 2 });
    expect(await readAll(reader)).toEqual({ values: [{ a: 1 }, { a: 2 }], offsets: [1, 2] });
    expect(errors).toEqual([]);
  });

  it('skips blank and whitespace-only lines but counts them', async () => {
    const path = await fileWith('{"a":1}\n\n   \n{"a":2}\n\t \n{"a":3}\n\n');
    const { reader, errors } = await openNdjson(path);
    expect(await readAll(reader)).toEqual({ values: [{ a: 1 }, { a: 2 }, { a: 3 }], offsets: [1, 4, 6] });
    expect(errors).toEqual([]);
  });

  it('handles CRLF line endings, including blank CRLF lines', async () => {
    const path = await fileWith('{"a":1}\r\n\r\n"x"\r\n{"a":"b\\r"}\r\n');
    for (const chunkBytes of [1, 2, 3, 65_536]) {
      const { reader, errors } = await openNdjson(path, { chunkBytes });
      expect(await readAll(reader)).toEqual({ values: [{ a: 1 }, 'x', { a: 'b\r' }], offsets: [1, 3, 4] });
      expect(errors).toEqual([]);
    }
  });

  it('reports a malformed line to onError as SourceParseError with its line, and reads on', async () => {
    const path = await fileWith('{"a":1}\n{oops\n{"a":3}\n[1,\n5\n');
    const { reader, errors } = await openNdjson(path);
    expect(await readAll(reader)).toEqual({ values: [{ a: 1 }, { a: 3 }, 5], offsets: [1, 3, 5] });
    expect(errors).toHaveLength(2);
    const [first, second] = errors;
    expect(first).toBeInstanceOf(SourceParseError);
    expect(first?.code).toBe('SOURCE_PARSE_FAILED');
    expect((first as SourceParseError).line).toBe(2);
    expect((first as SourceParseError).path).toBe(path);
    expect(first?.message).toContain(`${path}:2 is not valid JSON`);
    expect(first?.cause).toBeInstanceOf(SyntaxError);
    expect((second as SourceParseError).line).toBe(4);
  });

  it('decodes multi-byte UTF-8 characters split across chunk boundaries, for chunk sizes 1 to 7', async () => {
    const lines = [{ t: 'café' }, { t: '€uro ß' }, { t: '日本語テキスト' }, { t: '𝄞 clef' }, { t: '👍🏽👨‍👩‍👧' }, 'ｘ'];
    const path = await fileWith(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    for (let chunkBytes = 1; chunkBytes <= 7; chunkBytes++) {
      const { reader, errors } = await openNdjson(path, { chunkBytes });
      const read = await readAll(reader, 2);
      expect(read.values, `chunkBytes ${chunkBytes}`).toEqual(lines);
      expect(read.offsets).toEqual([1, 2, 3, 4, 5, 6]);
      expect(errors).toEqual([]);
    }
  });

  it('reads a last line that has no trailing newline, whatever the chunk size', async () => {
    const path = await fileWith('{"a":1}\n{"last":"é"}');
    for (const chunkBytes of [1, 2, 5, 7, 65_536]) {
      const { reader } = await openNdjson(path, { chunkBytes });
      expect(await readAll(reader)).toEqual({ values: [{ a: 1 }, { last: 'é' }], offsets: [1, 2] });
    }
  });

  it('reports a malformed last line that has no trailing newline', async () => {
    const path = await fileWith('1\n{"cut":');
    const { reader, errors } = await openNdjson(path);
    expect(await readAll(reader)).toEqual({ values: [1], offsets: [1] });
    expect(errors.map((e) => (e as SourceParseError).line)).toEqual([2]);
  });

  it('starts at fromOffset, skipping earlier lines without parsing them', async () => {
    const path = await fileWith('1\nnot json\n3\n\n5\n6\n');
    const { reader, errors } = await openNdjson(path, { fromOffset: 3 });
    expect(await readAll(reader)).toEqual({ values: [3, 5, 6], offsets: [3, 5, 6] });
    expect(errors).toEqual([]);
  });

  it('returns at most max events per read and resumes where it stopped', async () => {
    const path = await fileWith('1\n2\n3\n4\n5\n');
    const { reader } = await openNdjson(path, { chunkBytes: 3 });
    expect(await reader.read(2)).toEqual({ values: [1, 2], offsets: [1, 2] });
    expect(await reader.read(2)).toEqual({ values: [3, 4], offsets: [3, 4] });
    expect(await reader.read(2)).toEqual({ values: [5], offsets: [5] });
    expect(await reader.read(2)).toBeNull();
    expect(await reader.read(2)).toBeNull();
  });

  it('keeps line numbers right across many chunks', async () => {
    const lineNumbers = Array.from({ length: 2000 }, (_, i) => i + 1);
    const text = lineNumbers.map((n) => (n % 7 === 4 ? '' : JSON.stringify({ n }))).join('\n');
    const path = await fileWith(text);
    const { reader } = await openNdjson(path, { chunkBytes: 64 });
    const { values, offsets } = await readAll(reader, 33);
    const expected = lineNumbers.filter((n) => n % 7 !== 4);
    expect(offsets).toEqual(expected);
    expect(values).toEqual(expected.map((n) => ({ n })));
  });

  it('reads null from an empty file or a file of blank lines', async () => {
    for (const text of ['', '\n\n\r\n  \n']) {
      const path = await fileWith(text);
      const { reader, errors } = await openNdjson(path);
      expect(await reader.read(10)).toBeNull();
      expect(errors).toEqual([]);
    }
  });

  it('rejects open() of a missing file with SOURCE_FAILED naming the path', async () => {
    const missing = join(dir, 'nope.ndjson');
    const source = fromNdjson(missing);
    let caught: unknown;
    try {
      await source.open({ fromOffset: 1, onError: () => {} });
    } catch (error) {
      caught = error;
    }
    expect(isSteadfastError(caught, 'SOURCE_FAILED')).toBe(true);
    expect((caught as Error).message).toContain(missing);
    expect((caught as Error).cause).toMatchObject({ code: 'ENOENT' });
  });

  it('closes its file on close(), reads null afterwards, and tolerates a second close()', async () => {
    const path = await fileWith('1\n2\n3\n');
    const { reader } = await openNdjson(path, { chunkBytes: 2 });
    expect(await reader.read(1)).toEqual({ values: [1], offsets: [1] });
    expect(opened).toHaveLength(1);
    expect(opened[0]?.fd).toBeGreaterThanOrEqual(0);
    await reader.close();
    expect(opened[0]?.fd).toBe(-1);
    expect(await reader.read(10)).toBeNull();
    await reader.close();
  });

  it('resolves a read that is pending when close() is called with null', async () => {
    const path = await fileWith('1\n2\n3\n');
    for (const chunkBytes of [1, 65_536]) {
      const { reader } = await openNdjson(path, { chunkBytes });
      const pending = reader.read(10);
      await reader.close();
      expect(await pending, `chunkBytes ${chunkBytes}`).toBeNull();
    }
  });

  it('rejects invalid arguments with a ConfigError naming the field and value', () => {
    const cases: Array<[() => unknown, string, unknown]> = [
      [() => fromNdjson(''), 'fromNdjson(path)', ''],
      [() => fromNdjson(42 as unknown as string), 'fromNdjson(path)', 42],
      [() => fromNdjson('x.ndjson', { chunkBytes: 0 }), 'fromNdjson.chunkBytes', 0],
      [() => fromNdjson('x.ndjson', { chunkBytes: 1.5 }), 'fromNdjson.chunkBytes', 1.5],
      [() => fromNdjson('x.ndjson', { chunkSize: 10 } as unknown as { chunkBytes: number }), 'fromNdjson.chunkSize', 10],
    ];
    for (const [run, field, value] of cases) {
      let caught: unknown;
      try {
        run();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe(field);
      expect((caught as ConfigError).value).toBe(value);
    }
  });
});
