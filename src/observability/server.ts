import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SteadfastError, messageOf } from '../core/errors.js';
import { DashboardFeed } from './dashboard-feed.js';
import { dashboardPage } from './dashboard-page.js';
import { createHealthMonitor } from './health.js';
import { allowedHosts, hostAllowed } from './host-check.js';
import { InspectionLog } from './inspection-log.js';
import { inspectReply } from './inspect-route.js';
import { createMetrics } from './metrics.js';
import { chooseLevel, createLogger } from '../logging/logger.js';
import { resolveServeOptions, type ServeOptions } from './server-options.js';
import { SseHub, type SseStats } from './sse-hub.js';

export type { ServeOptions, SseStats };

/** A running observability server; see {@link serve}. */
export interface ObservabilityServer {
  /** `http://host:port` (IPv6 in brackets). */
  readonly url: string;
  /** The bound port (the one picked when `port` was 0). */
  readonly port: number;
  /** The event streams (`/events`): open now, refused over `maxClients`, dropped for not reading, bytes unsent. */
  streams(): SseStats;
  /** Stops accepting, ends the event streams and open connections, and releases what `serve` made. Idempotent. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Seconds a client refused an event stream (over `maxClients`) is told to wait; the dashboard waits as long. */
const RETRY_AFTER_S = 10;
const COMMON = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
const PAGE_HEADERS = {
  ...COMMON,
  'Content-Type': 'text/html; charset=utf-8',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
};

/**
 * Serves a pipeline's observability over node:http: `/metrics` (Prometheus text), `/health` (JSON;
 * 200 when running or degraded, 503 when critical), `/tree` (supervision tree JSON), `/` (a live
 * dashboard), `/events` (server-sent events feeding it) and `/inspect?actor=<id>` (the latest XState
 * inspection events of a stage actor or supervisor). Binds to 127.0.0.1 unless `host` says
 * otherwise; a request whose Host header is not the bound host:port gets 400 (DNS rebinding).
 * Event streams are capped (`maxClients`; one more gets 503 with `Retry-After`), and a client that
 * does not read is dropped (`maxBufferedBytes`, `drainTimeoutMs`); see `server.streams()`.
 *
 * @example
 * const server = await serve({ pipelines: [pipeline], host: '127.0.0.1', port: 9464 });
 * // curl http://127.0.0.1:9464/metrics
 * await server.close();
 */
export async function serve(options: ServeOptions): Promise<ObservabilityServer> {
  const opts = resolveServeOptions(options);
  const ownMetrics = opts.metrics === undefined;
  const metrics = opts.metrics === false ? undefined : (opts.metrics ?? createMetrics());
  const ownHealth = opts.health === undefined;
  const health = opts.health ?? createHealthMonitor();
  for (const pipeline of opts.pipelines) {
    metrics?.track(pipeline);
    health.track(pipeline);
  }
  // The latest inspection events of every actor, for `/inspect` (the dashboard's actor view).
  const inspection = opts.inspectEvents === 0 ? undefined : new InspectionLog({ perActor: opts.inspectEvents });
  const stopInspecting = opts.pipelines.flatMap((p) => (inspection === undefined || p.inspect === undefined ? [] : [p.inspect((event) => inspection.record(p.name, event))]));
  const untrack = () => {
    for (const off of stopInspecting.splice(0)) off();
    if (ownHealth) health.stop();
    if (ownMetrics) for (const pipeline of opts.pipelines) metrics?.untrack(pipeline);
  };
  let log = opts.logger;
  const logger = () => (log ??= createLogger(chooseLevel(undefined, 'warn'), { component: 'steadfast.serve' }));
  const limits = { maxClients: opts.maxClients, maxBufferedBytes: opts.maxBufferedBytes, drainTimeoutMs: opts.drainTimeoutMs, retryAfterS: RETRY_AFTER_S };
  // The feed builds snapshots only while a stream is open: the last one closing stops it.
  const hub: SseHub = new SseHub(limits, logger, () => feed.streamsClosed());
  const feed = new DashboardFeed(opts.pipelines, hub, health, opts.updateMs, Date.now);
  let allowed = new Set<string>();

  const routes: Record<string, (res: ServerResponse, url: URL) => void | Promise<void>> = {
    '/metrics': async (res) => {
      if (metrics === undefined) return plain(res, 404, 'metrics are off\n');
      const text = await metrics.expose();
      res.writeHead(200, { ...COMMON, 'Content-Type': metrics.contentType }).end(text);
    },
    '/health': (res) => {
      const report = health.check();
      res.writeHead(report.state === 'critical' ? 503 : 200, { ...COMMON, 'Content-Type': JSON_TYPE }).end(JSON.stringify(report));
    },
    '/tree': (res) => {
      res.writeHead(200, { ...COMMON, 'Content-Type': JSON_TYPE }).end(JSON.stringify(feed.tree()));
    },
    '/': async (res) => {
      res.writeHead(200, PAGE_HEADERS).end(await dashboardPage());
    },
    '/events': (res) => {
      hub.open(res, (send) => feed.streamOpened(send));
    },
    '/inspect': (res, url) => {
      const reply = inspectReply(inspection, opts.pipelines.map((p) => p.name), url.searchParams);
      res.writeHead(reply.status, { ...COMMON, 'Content-Type': JSON_TYPE }).end(JSON.stringify(reply.body));
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host, allowed)) return plain(res, 400, 'bad Host header\n');
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return plain(res, 405, 'method not allowed\n');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (route === undefined) return plain(res, 404, 'not found\n');
    await route(res, url);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) plain(res, 500, `${messageOf(error)}\n`);
      else res.destroy();
    });
  });
  const port = await listen(server, opts.host, opts.port).catch((error: unknown) => {
    feed.close();
    untrack();
    throw error;
  });
  // On a loopback address `localhost` is the same machine: a rebinding page cannot send it as its Host.
  const loopback = opts.host === '127.0.0.1' || opts.host === '::1' || opts.host === 'localhost';
  allowed = allowedHosts(opts.host, port, loopback ? [...opts.allowedHosts, 'localhost'] : opts.allowedHosts);
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    streams: () => hub.stats(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        feed.close();
        hub.closeAll();
        untrack();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...COMMON, 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(new SteadfastError('HTTP_LISTEN_FAILED', `serve could not listen on ${host}:${port}: ${error.message}`, { cause: error }));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
