import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, SinkWriteError, SteadfastError, messageOf } from '../core/errors.js';
import { knownKeys, record } from '../core/validate.js';
import { ensureDir } from './ensure-dir.js';
import type { Sink } from './sink.js';

/** Options of {@link toNdjson}. */
export interface NdjsonSinkOptions {
  /** Append to an existing file (default), or `false` to start it empty on open. */
  append?: boolean;
}

/**
 * A sink appending each output as one line of JSON. Each batch is one write, in order; on a graceful
 * stop the file is flushed and fsynced before `stop()` resolves. A value JSON cannot represent
 * (`undefined`, a function, a BigInt, a cycle) is reported with its offset, and the rest are written.
 *
 * @example
 * createPipeline({ name: 'orders', source, stages: [enrich], sink: toNdjson('out/orders.ndjson') });
 */
export function toNdjson<T = unknown>(path: string, options: NdjsonSinkOptions = {}): Sink<T> {
  if (typeof path !== 'string' || path.length === 0) throw new ConfigError('toNdjson(path)', path, 'must be a non-empty string');
  const opts = record('toNdjson options', options);
  knownKeys('toNdjson', opts, ['append']);
  if (opts.append !== undefined && typeof opts.append !== 'boolean') throw new ConfigError('toNdjson.append', opts.append, 'must be a boolean');
  const flags = opts.append === false ? 'w' : 'a';
  const file = resolve(path);
  let handle: FileHandle | undefined;
  return {
    kind: 'sink',
    name: `ndjson:${path}`,
    async open() {
      try {
        await ensureDir(dirname(file));
        handle = await open(file, flags);
      } catch (error) {
        throw new SteadfastError('STAGE_OPEN_FAILED', `cannot open NDJSON sink ${file}: ${messageOf(error)}`, { cause: error });
      }
    },
    async write(values, offsets) {
      if (handle === undefined) throw new SteadfastError('PIPELINE_STATE_INVALID', `NDJSON sink ${file} written before open()`);
      let text = '';
      const bad: { events: unknown[]; offsets: number[] } = { events: [], offsets: [] };
      let firstReason = '';
      let firstCause: unknown;
      for (let i = 0; i < values.length; i++) {
        let line: string | undefined;
        let cause: unknown;
        try {
          line = JSON.stringify(values[i]);
        } catch (error) {
          cause = error;
        }
        if (line === undefined) {
          if (bad.events.length === 0) {
            firstCause = cause;
            firstReason = cause === undefined ? 'JSON cannot represent it' : messageOf(cause);
          }
          bad.events.push(values[i]);
          bad.offsets.push(offsets[i] as number);
          continue;
        }
        text += line + '\n';
      }
      if (text.length > 0) await handle.writeFile(text);
      if (bad.events.length > 0) {
        const more = bad.events.length > 1 ? ` (and ${bad.events.length - 1} more)` : '';
        throw new SinkWriteError(`NDJSON sink ${file} cannot write the value at offset ${bad.offsets[0]}${more}: ${firstReason}`, bad, firstCause);
      }
    },
    async close() {
      const h = handle;
      handle = undefined;
      if (h === undefined) return;
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    },
  };
}
