import type { BackoffOptions } from '../core/backoff.js';
import { ConfigError, RedisError } from '../core/errors.js';
import { partitionOf } from '../core/partition-of.js';
import { integerIn, knownKeys, name, record } from '../core/validate.js';
import { connectRedis, reconnectOptions, redactUrl, redisUrl, type RedisConnection } from './connection.js';

/** Options of {@link redisStreamProducer}. */
export interface RedisStreamProducerOptions {
  /** The server, `redis://host:port`. */
  url: string;
  /** The stream's name: partition `n` is the Redis stream `<stream>:<n>`. */
  stream: string;
  /** How many partitions (1 … 65536); readers must use the same number. */
  partitions: number;
  /** Delay between reconnect attempts after the connection was lost (partial backoff). */
  reconnect?: Partial<BackoffOptions>;
}

/** Where a sent value went. */
export interface SentEntry {
  partition: number;
  /** The Redis stream entry id (`<ms>-<seq>`). */
  id: string;
}

/** Writes keyed values into a partitioned Redis stream. */
export interface RedisStreamProducer {
  readonly stream: string;
  readonly partitions: number;
  /** Connects now (otherwise the first `send` does); rejects with REDIS_UNAVAILABLE when Redis cannot be reached. */
  open(): Promise<void>;
  /**
   * Appends `value` as JSON (field `value`) to the partition of `key` (`partitionOf(key, partitions)`):
   * one key's values stay in order in one partition. Rejects with REDIS_UNAVAILABLE while Redis is
   * down (nothing is queued: the caller decides whether to retry) and CONFIG_INVALID for a value JSON cannot hold.
   */
  send(key: string, value: unknown): Promise<SentEntry>;
  /** Closes the connection after the sends in flight. Idempotent. */
  close(): Promise<void>;
}

const KNOWN = ['url', 'stream', 'partitions', 'reconnect'] as const;

/**
 * A producer for a partitioned Redis stream, the input of `fromRedisStreams`.
 *
 * @example
 * const producer = redisStreamProducer({ url: 'redis://127.0.0.1:6379', stream: 'orders', partitions: 8 });
 * await producer.send(order.customerId, order);
 * await producer.close();
 */
export function redisStreamProducer(options: RedisStreamProducerOptions): RedisStreamProducer {
  const opts = record('redisStreamProducer options', options);
  knownKeys('redisStreamProducer', opts, KNOWN);
  const url = redisUrl('redisStreamProducer.url', opts.url);
  const stream = name('redisStreamProducer.stream', opts.stream);
  const partitions = integerIn('redisStreamProducer.partitions', opts.partitions, 1, 65_536);
  const reconnect = reconnectOptions('redisStreamProducer.reconnect', opts.reconnect);
  const what = `redisStreamProducer of "${stream}"`;
  let connecting: Promise<RedisConnection> | undefined;
  let closed = false;
  const inflight = new Set<Promise<unknown>>();
  const connection = (): Promise<RedisConnection> => {
    if (closed) return Promise.reject(new RedisError('REDIS_UNAVAILABLE', redactUrl(url), `${what} is closed`));
    if (connecting === undefined) {
      connecting = connectRedis(url, { what, reconnect });
      // A failed first connect is reported to its caller; the next send tries again.
      connecting.catch(() => (connecting = undefined));
    }
    return connecting;
  };
  return {
    stream,
    partitions,
    async open() {
      await connection();
    },
    send(key, value) {
      let partition: number;
      let json: string;
      try {
        partition = partitionOf(key, partitions);
        json = toJson(value);
      } catch (error) {
        return Promise.reject(error);
      }
      const sent = connection().then(async (c) => ({ partition, id: await c.run('XADD', () => c.client.xAdd(`${stream}:${partition}`, '*', { value: json })) }));
      inflight.add(sent);
      const forget = (): void => void inflight.delete(sent);
      sent.then(forget, forget);
      return sent;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inflight]);
      const open = await connecting?.catch(() => undefined);
      await open?.close();
    },
  };
}

function toJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new ConfigError('value', value, 'must be representable as JSON');
  return json;
}
