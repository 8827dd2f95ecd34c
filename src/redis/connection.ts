// One connection to Redis (node-redis): a first connect that fails at once with one clear error,
// reconnects with backoff after that, commands that fail fast while the connection is down (no
// offline queue: a caller never waits silently), and every failure as a typed RedisError.
import { createClient, ErrorReply, MultiErrorReply, RESP_TYPES } from 'redis';
import { backoffDelay, backoffOptions, type BackoffOptions } from '../core/backoff.js';
import { ConfigError, RedisError, isSteadfastError, messageOf } from '../core/errors.js';

/** A node-redis client as steadfast opens it (strings in, strings out). */
export type RedisClient = ReturnType<typeof newClient>;

function newClient(url: string, reconnectStrategy: (retries: number, cause: Error) => number | Error) {
  // No offline queue: a command sent while the connection is down fails at once instead of waiting.
  return createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 5_000, reconnectStrategy } });
}

/** The reconnect backoff used unless told otherwise: 50 ms doubling up to 2 s, 20 % jitter. */
export const REDIS_RECONNECT: Readonly<BackoffOptions> = Object.freeze({ minMs: 50, maxMs: 2_000, factor: 2, jitter: 0.2, resetAfterMs: 0 });

/** How to reach Redis. */
export interface RedisConnectOptions {
  /** What connects, for messages (`redisStore`, `partition leases of "orders"`). */
  what: string;
  /** Delay between reconnect attempts after the connection was lost (default {@link REDIS_RECONNECT}). */
  reconnect?: BackoffOptions;
  /** Told of every failed attempt and lost connection while reconnecting (the client goes on trying). */
  onError?: (error: RedisError) => void;
}

/** An open connection: the client, a view of it that reads values as Buffers, and its address. */
export interface RedisConnection {
  readonly client: RedisClient;
  /** The same connection, reading blob replies as Buffers (binary values). */
  readonly binary: ReturnType<RedisClient['withTypeMapping']>;
  /** The server's address without its password. */
  readonly url: string;
  /** Sends a command and maps its failure to a RedisError. */
  run<T>(command: string, work: () => Promise<T>): Promise<T>;
  /** Closes the connection: politely when it is up, at once when it is not. Never rejects. */
  close(): Promise<void>;
  /** Drops the connection at once, failing the commands waiting for replies (a server that stopped answering). */
  destroy(): void;
}

/** Checks a `url` option: a `redis://` or `rediss://` URL. */
export function redisUrl(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ConfigError(field, value, 'must be a redis:// or rediss:// URL');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(field, value, 'must be a redis:// or rediss:// URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigError(field, value, 'must be a redis:// or rediss:// URL');
  return value;
}

/** Checks a `reconnect` option (partial backoff) over {@link REDIS_RECONNECT}. */
export function reconnectOptions(field: string, value: unknown): BackoffOptions {
  if (value === undefined) return { ...REDIS_RECONNECT };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(field, value, 'must be an object');
  return backoffOptions(field, { ...REDIS_RECONNECT, ...value });
}

/** `url` without its password, for messages and `location`. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
}

/**
 * Connects to Redis; rejects with REDIS_UNAVAILABLE when the server cannot be reached now. Once
 * connected, a lost connection is retried with backoff, for as long as the connection is open.
 */
export async function connectRedis(url: string, options: RedisConnectOptions): Promise<RedisConnection> {
  const shown = redactUrl(url);
  const reconnect = options.reconnect ?? REDIS_RECONNECT;
  let connected = false;
  // Before the first connect, a failure ends the attempt: `connectRedis` reports it, once.
  const client = newClient(url, (retries, cause) => (connected ? backoffDelay(retries, reconnect, Math.random) : cause));
  client.on('error', (error: unknown) => {
    if (connected) options.onError?.(redisFailure(shown, options.what, 'connection', error));
  });
  client.on('ready', () => {
    connected = true;
  });
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw new RedisError('REDIS_UNAVAILABLE', shown, `${options.what}: Redis at ${shown} is unavailable: ${deepMessage(error)}`, error);
  }
  const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return {
    client,
    binary,
    url: shown,
    run: async (command, work) => {
      try {
        return await work();
      } catch (error) {
        throw redisFailure(shown, options.what, command, error);
      }
    },
    destroy: () => {
      if (client.isOpen) client.destroy();
    },
    close: async () => {
      if (!client.isOpen) return;
      if (!client.isReady) {
        client.destroy();
        return;
      }
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    },
  };
}

/** A command's failure as a RedisError: REDIS_FAILED when the server answered with an error, REDIS_UNAVAILABLE otherwise. */
export function redisFailure(url: string, what: string, command: string, error: unknown): RedisError {
  if (isSteadfastError(error)) return error as RedisError;
  if (error instanceof ErrorReply || error instanceof MultiErrorReply) {
    return new RedisError('REDIS_FAILED', url, `${what}: Redis at ${url} refused ${command}: ${messageOf(error)}`, error);
  }
  return new RedisError('REDIS_UNAVAILABLE', url, `${what}: Redis at ${url} is unavailable (${command}): ${deepMessage(error)}`, error);
}

/** The innermost message of a cause chain. */
function deepMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 8 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  return messageOf(e);
}
