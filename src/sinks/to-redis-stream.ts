import type { BackoffOptions } from '../core/backoff.js';
import type { RedisError} from '../core/errors.js';
import { ConfigError, SinkWriteError, SteadfastError, messageOf } from '../core/errors.js';
import { knownKeys, name, record } from '../core/validate.js';
import { connectRedis, reconnectOptions, redisUrl, type RedisConnection } from '../redis/connection.js';
import type { Sink } from './sink.js';

/** Options of {@link toRedisStream}. */
export interface RedisStreamSinkOptions {
  /** The server, `redis://host:port`. */
  url: string;
  /** The Redis stream the outputs are appended to. */
  stream: string;
  /** First part of every entry's `id` field (default: the stream's name); give the pipeline's name. */
  pipeline?: string;
  /** Delay between reconnect attempts after the connection was lost (partial backoff). */
  reconnect?: Partial<BackoffOptions>;
}

const KNOWN = ['url', 'stream', 'pipeline', 'reconnect'] as const;
/** Offsets whose output count is remembered: outputs of one offset arrive close together. */
const REMEMBERED_OFFSETS = 4_096;

/**
 * A sink appending one Redis stream entry per output, at least once: field `value` holds the output
 * as JSON, field `id` an idempotency key `<pipeline>:<source offset>:<index among that offset's
 * outputs>`, the same when a replay after a crash writes the output again, so that a consumer can
 * drop what it has seen (docs/redis.md). Each batch is one MULTI/EXEC: written whole or not at all.
 *
 * @example
 * createPipeline({ name: 'orders', source, stages, sink: toRedisStream({ url, stream: 'results', pipeline: 'orders' }) });
 */
export function toRedisStream<T = unknown>(options: RedisStreamSinkOptions): Sink<T> {
  const opts = record('toRedisStream options', options);
  knownKeys('toRedisStream', opts, KNOWN);
  const url = redisUrl('toRedisStream.url', opts.url);
  const stream = name('toRedisStream.stream', opts.stream);
  const pipeline = opts.pipeline === undefined ? stream : name('toRedisStream.pipeline', opts.pipeline);
  const reconnect = reconnectOptions('toRedisStream.reconnect', opts.reconnect);
  const what = `redis stream sink "${stream}"`;
  const counts = new OutputIndex();
  let connection: RedisConnection | undefined;
  return {
    kind: 'sink',
    name: `redis-stream:${stream}`,
    async open() {
      connection ??= await connectRedis(url, { what, reconnect });
    },
    async write(values, offsets) {
      const c = connection;
      if (c === undefined) throw new SteadfastError('PIPELINE_STATE_INVALID', `${what} written before open()`);
      const bad: { events: unknown[]; offsets: number[] } = { events: [], offsets: [] };
      const good: { events: unknown[]; offsets: number[] } = { events: [], offsets: [] };
      const entries: Array<{ value: string; id: string }> = [];
      for (let i = 0; i < values.length; i++) {
        const offset = offsets[i] as number;
        // Counted before the JSON check: a replay gives every output of an offset the same index again.
        const id = `${pipeline}:${offset}:${counts.next(offset)}`;
        const json = jsonOf(values[i]);
        if (json === undefined) {
          bad.events.push(values[i]);
          bad.offsets.push(offset);
          continue;
        }
        good.events.push(values[i]);
        good.offsets.push(offset);
        entries.push({ value: json, id });
      }
      if (entries.length > 0) {
        try {
          await c.run('MULTI/EXEC of XADD', () => {
            const multi = c.client.multi();
            for (const entry of entries) multi.xAdd(stream, '*', entry);
            return multi.exec();
          });
        } catch (error) {
          // Not written (or not known to be): a retry of these values must get the same ids again.
          for (let i = offsets.length - 1; i >= 0; i--) counts.undo(offsets[i] as number);
          const where = good.offsets.length === 1 ? `the value at offset ${good.offsets[0]}` : `${good.offsets.length} values`;
          throw new SinkWriteError(`${what} could not write ${where}: ${messageOf(error)}`, { events: [...good.events, ...bad.events], offsets: [...good.offsets, ...bad.offsets] }, error as RedisError);
        }
      }
      if (bad.events.length > 0) {
        const more = bad.events.length > 1 ? ` (and ${bad.events.length - 1} more)` : '';
        throw new SinkWriteError(`${what} cannot write the value at offset ${bad.offsets[0]}${more}: JSON cannot represent it`, bad, new ConfigError('value', bad.events[0], 'must be representable as JSON'));
      }
    },
    async close() {
      const c = connection;
      connection = undefined;
      await c?.close();
    },
  };
}

/** The index of each output among the outputs of its source offset, for the offsets seen lately. */
class OutputIndex {
  readonly #next = new Map<number, number>();

  next(offset: number): number {
    const index = this.#next.get(offset) ?? 0;
    if (index === 0 && this.#next.size >= REMEMBERED_OFFSETS) {
      const oldest = this.#next.keys().next().value as number;
      this.#next.delete(oldest);
    }
    this.#next.set(offset, index + 1);
    return index;
  }

  /** Takes back the last index given for `offset`. */
  undo(offset: number): void {
    const next = this.#next.get(offset);
    if (next !== undefined && next > 0) this.#next.set(offset, next - 1);
  }
}

function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
