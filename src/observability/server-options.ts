import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.js';
import { integerIn, knownKeys, record } from '../core/validate.js';
import type { HealthMonitor } from './health.js';
import type { Metrics } from './metrics.js';
import type { ObservedPipeline } from './tracked-pipeline.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** The pipelines to expose (metrics, health, tree, dashboard). */
  pipelines: readonly ObservedPipeline[];
  /** Address to bind (default `127.0.0.1`: this machine only). */
  host?: string;
  /** Port (default 9464); 0 picks a free one (see `server.port`). */
  port?: number;
  /** Metrics to expose (default: a new set tracking `pipelines`, untracked on close); `false` serves no `/metrics`. */
  metrics?: Metrics | false;
  /** Health monitor to answer `/health` from (default: a new one on `pipelines`, stopped on close). */
  health?: HealthMonitor;
  /** More Host header names to accept besides the bound host (e.g. `localhost`, or a DNS name when bound to 0.0.0.0). */
  allowedHosts?: readonly string[];
  /** Period of the dashboard's snapshots over `/events` (default 1000 ms). */
  updateMs?: number;
  /** Inspection events kept per actor for `/inspect` and the dashboard (default 50; 0 = do not inspect). */
  inspectEvents?: number;
  /** Event streams (`/events`, one per dashboard tab) open at once (default 32); one more gets 503 with `Retry-After`. */
  maxClients?: number;
  /** Bytes an event stream may hold unsent once its socket is full (default 1 MiB); past it the stream is dropped. */
  maxBufferedBytes?: number;
  /** Time a full event stream has to drain (default 30 000 ms); past it the stream is dropped. */
  drainTimeoutMs?: number;
  /** Logger for what the server reports (a dropped stream); default a pino logger on stderr at `warn` (or `STEADFAST_LOG_LEVEL`). */
  logger?: Logger;
}

/** Options with defaults filled in. */
export interface ResolvedServeOptions {
  pipelines: readonly ObservedPipeline[];
  host: string;
  port: number;
  metrics: Metrics | false | undefined;
  health: HealthMonitor | undefined;
  allowedHosts: readonly string[];
  updateMs: number;
  inspectEvents: number;
  maxClients: number;
  maxBufferedBytes: number;
  drainTimeoutMs: number;
  logger: Logger | undefined;
}

const KNOWN = ['pipelines', 'host', 'port', 'metrics', 'health', 'allowedHosts', 'updateMs', 'inspectEvents', 'maxClients', 'maxBufferedBytes', 'drainTimeoutMs', 'logger'] as const;
const HOST = /^[A-Za-z0-9.:_-]{1,253}$/;

/** Checks the options of `serve()`; a mistake is a CONFIG_INVALID naming the field and the value. */
export function resolveServeOptions(options: unknown): ResolvedServeOptions {
  const opts = record('serve options', options);
  knownKeys('serve', opts, KNOWN);
  if (!Array.isArray(opts.pipelines)) throw new ConfigError('serve.pipelines', opts.pipelines, 'must be an array of pipelines');
  const pipelines = opts.pipelines as unknown[];
  const names = new Set<string>();
  pipelines.forEach((p, i) => {
    const candidate = p as Partial<ObservedPipeline> | null;
    if (typeof candidate?.stats !== 'function' || typeof candidate.observe !== 'function' || typeof candidate.name !== 'string') {
      throw new ConfigError(`serve.pipelines[${i}]`, p, 'must be a pipeline (from createPipeline)');
    }
    if (names.has(candidate.name)) throw new ConfigError(`serve.pipelines[${i}].name`, candidate.name, 'must be unique among the pipelines served');
    names.add(candidate.name);
  });
  const host = opts.host === undefined ? '127.0.0.1' : hostName('serve.host', opts.host);
  const port = opts.port === undefined ? 9464 : integerIn('serve.port', opts.port, 0, 65_535);
  const metrics = opts.metrics === undefined ? undefined : opts.metrics === false ? false : has<Metrics>('serve.metrics', opts.metrics, ['expose', 'track'], 'must be made by createMetrics()');
  const health = opts.health === undefined ? undefined : has<HealthMonitor>('serve.health', opts.health, ['check', 'track'], 'must be made by createHealthMonitor()');
  const allowedHosts = opts.allowedHosts === undefined ? [] : hostList(opts.allowedHosts);
  const updateMs = opts.updateMs === undefined ? 1000 : integerIn('serve.updateMs', opts.updateMs, 50);
  const inspectEvents = opts.inspectEvents === undefined ? 50 : integerIn('serve.inspectEvents', opts.inspectEvents, 0, 10_000);
  const maxClients = opts.maxClients === undefined ? 32 : integerIn('serve.maxClients', opts.maxClients, 1, 100_000);
  const maxBufferedBytes = opts.maxBufferedBytes === undefined ? 1_048_576 : integerIn('serve.maxBufferedBytes', opts.maxBufferedBytes, 1);
  const drainTimeoutMs = opts.drainTimeoutMs === undefined ? 30_000 : integerIn('serve.drainTimeoutMs', opts.drainTimeoutMs, 10);
  const logger = opts.logger === undefined ? undefined : has<Logger>('serve.logger', opts.logger, ['warn', 'debug'], 'must be a pino logger');
  return { pipelines: pipelines as ObservedPipeline[], host, port, metrics, health, allowedHosts, updateMs, inspectEvents, maxClients, maxBufferedBytes, drainTimeoutMs, logger };
}

function hostName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !HOST.test(value)) throw new ConfigError(field, value, 'must be a host name or an IP address');
  return value;
}

function hostList(value: unknown): string[] {
  if (!Array.isArray(value)) throw new ConfigError('serve.allowedHosts', value, 'must be an array of host names');
  return value.map((h: unknown, i) => hostName(`serve.allowedHosts[${i}]`, h));
}

function has<T>(field: string, value: unknown, methods: string[], expected: string): T {
  const given = value as Record<string, unknown> | null;
  if (typeof given !== 'object' || given === null || methods.some((m) => typeof given[m] !== 'function')) throw new ConfigError(field, value, expected);
  return value as T;
}
