import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Batch } from '../core/batch-queue.js';
import { ConfigError, SourceParseError, SteadfastError, messageOf } from '../core/errors.js';
import { integerIn, knownKeys, record } from '../core/validate.js';
import type { Source, SourceOpenOptions, SourceReader } from './source.js';

/** Options of {@link fromNdjson}. */
export interface NdjsonSourceOptions {
  /** Bytes read from the file at a time (default 64 KiB). */
  chunkBytes?: number;
}

/**
 * A source reading a file of newline-delimited JSON, one event per line. An event's offset is its
 * 1-based line number, so replay from an offset is exact. Blank lines are skipped. A line that is not
 * valid JSON becomes a SourceParseError (code SOURCE_PARSE_FAILED, with `line`) sent to the
 * pipeline's error handler, and reading goes on with the next line.
 *
 * @example
 * createPipeline({ name: 'orders', source: fromNdjson('orders.ndjson'), stages: [parse] });
 */
export function fromNdjson<T = unknown>(path: string, options: NdjsonSourceOptions = {}): Source<T> {
  if (typeof path !== 'string' || path.length === 0) throw new ConfigError('fromNdjson(path)', path, 'must be a non-empty string');
  const opts = record('fromNdjson options', options);
  knownKeys('fromNdjson', opts, ['chunkBytes']);
  const chunkBytes = opts.chunkBytes === undefined ? 65_536 : integerIn('fromNdjson.chunkBytes', opts.chunkBytes, 1, 1 << 26);
  const file = resolve(path);
  return {
    kind: 'source',
    name: `ndjson:${path}`,
    open: async (openOptions: SourceOpenOptions) => {
      let handle: FileHandle;
      try {
        handle = await open(file, 'r');
      } catch (error) {
        throw new SteadfastError('SOURCE_FAILED', `cannot open NDJSON source ${file}: ${messageOf(error)}`, { cause: error });
      }
      return new NdjsonReader<T>(handle, file, chunkBytes, openOptions);
    },
  };
}

class NdjsonReader<T> implements SourceReader<T> {
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer: Buffer;
  private carry = '';
  private lines: string[] = [];
  private lineIndex = 0;
  /** Line number of `lines[0]`. */
  private firstLine = 1;
  private eof = false;
  private closed = false;
  private started = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    chunkBytes: number,
    private readonly options: SourceOpenOptions,
  ) {
    this.buffer = Buffer.allocUnsafe(chunkBytes);
  }

  async read(max: number): Promise<Batch<T> | null> {
    const values: T[] = [];
    const offsets: number[] = [];
    while (values.length < max && !this.closed) {
      if (this.lineIndex >= this.lines.length && !(await this.fill())) break;
      if (this.closed) return null;
      const text = this.lines[this.lineIndex] as string;
      const line = this.firstLine + this.lineIndex;
      this.lineIndex++;
      if (line < this.options.fromOffset || isBlank(text)) continue;
      let value: T;
      try {
        value = JSON.parse(text) as T;
      } catch (error) {
        this.options.onError(new SourceParseError(this.path, line, error));
        continue;
      }
      values.push(value);
      offsets.push(line);
    }
    return values.length === 0 ? null : { values, offsets };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** Reads the next chunk and splits it into lines; false at the end of the file. */
  private async fill(): Promise<boolean> {
    while (!this.eof && !this.closed) {
      const { bytesRead } = await this.handle.read(this.buffer, 0, this.buffer.length, null);
      this.firstLine += this.lines.length;
      this.lines = [];
      this.lineIndex = 0;
      let text: string;
      if (bytesRead === 0) {
        this.eof = true;
        text = this.carry + this.decoder.end();
        this.carry = '';
        if (text.length > 0) this.lines = [stripCr(text)];
      } else {
        text = this.carry + this.decoder.write(this.buffer.subarray(0, bytesRead));
        if (!this.started && text.length > 0) {
          this.started = true;
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark is not data
        }
        const parts = text.split('\n');
        this.carry = parts.pop() as string;
        for (let i = 0; i < parts.length; i++) parts[i] = stripCr(parts[i] as string);
        this.lines = parts;
      }
      if (this.lines.length > 0) return true;
    }
    return false;
  }
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
