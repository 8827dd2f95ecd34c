import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import * as steadfast from '../../src/index.js';
import { createPipeline, defineStage, fromIterable, pushSource, toArray } from '../../src/index.js';
import { createHealthMonitor } from '../../src/observability/health.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { serve } from '../../src/observability/server.js';
import { resolveServeOptions } from '../../src/observability/server-options.js';
import type { TreeSnapshot, DashboardSnapshot } from '../../src/observability/dashboard-feed.js';
import { expectConfigError } from '../helpers/config-error.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { parseExposition, valueOf } from './exposition.js';
import { httpGet, openEvents } from './http.js';
import { stageStatsOf, stubPipeline } from './stub-pipeline.js';

const fast = { backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0, resetAfterMs: 60_000 } };
const double = defineStage({ name: 'double', process: (n: number) => ({ emit: [n * 2] }) });

describe('serve()', () => {
  it('is exported from the package root with createMetrics and createHealthMonitor', () => {
    expect(steadfast.serve).toBe(serve);
    expect(steadfast.createMetrics).toBe(createMetrics);
    expect(steadfast.createHealthMonitor).toBe(createHealthMonitor);
  });

  it('binds to 127.0.0.1 by default, on a free port with port 0, and serves /metrics as parseable text', async () => {
    const pipeline = createPipeline({ name: 'web', source: fromIterable([1, 2, 3]), stages: [double], sink: toArray(), logLevel: 'silent' });
    const server = await serve({ pipelines: [pipeline], port: 0 });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(server.port).toBeGreaterThan(0);
      await pipeline.run();
      const reply = await httpGet(server.url, '/metrics');
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toContain('text/plain');
      expect(reply.headers['content-type']).toContain('version=0.0.4');
      expect(valueOf(parseExposition(reply.body), 'steadfast_stage_events_total', { pipeline: 'web', stage: 'double', outcome: 'ok' })).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('answers /health with the report: 200 while running or degraded, 503 when critical', async () => {
    const p = stubPipeline('h', ['a', 'b', 'c', 'd']);
    const server = await serve({ pipelines: [p], port: 0, health: createHealthMonitor({ pipelines: [p] }) });
    try {
      const running = await httpGet(server.url, '/health');
      expect([running.status, JSON.parse(running.body).state]).toEqual([200, 'running']);
      expect(running.headers['content-type']).toBe('application/json; charset=utf-8');
      p.stages.a = stageStatsOf('a', { status: 'crashed' });
      const degraded = await httpGet(server.url, '/health');
      expect([degraded.status, JSON.parse(degraded.body).state]).toEqual([200, 'degraded']);
      p.stages.b = stageStatsOf('b', { status: 'crashed' });
      p.stages.c = stageStatsOf('c', { status: 'crashed' });
      const critical = await httpGet(server.url, '/health');
      expect(critical.status).toBe(503);
      expect(JSON.parse(critical.body)).toMatchObject({ state: 'critical', availability: 0.25, pipelines: [{ pipeline: 'h', stages: [{ stage: 'a', status: 'unhealthy', reasons: ['stage crashed'] }, {}, {}, { status: 'healthy' }] }] });
    } finally {
      await server.close();
    }
  });

  it('answers /tree with pipeline → supervisor → stages, with state, restarts, mailbox and breaker', async () => {
    const guarded = defineStage({ name: 'guarded', breaker: true, process: (n: number) => ({ emit: [n] }) });
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'tree', source, stages: [guarded, double], sink: toArray(), logLevel: 'silent' });
    const server = await serve({ pipelines: [pipeline], port: 0 });
    try {
      await pipeline.start();
      const tree = JSON.parse((await httpGet(server.url, '/tree')).body) as TreeSnapshot;
      expect(tree.pipelines).toHaveLength(1);
      const root = tree.pipelines[0];
      expect(root).toMatchObject({ id: 'tree', type: 'pipeline', breakers: [{ name: 'tree.guarded', state: 'closed' }], supervisor: { id: 'tree', type: 'supervisor', strategy: 'one_for_one' } });
      expect(root?.supervisor.children.map((c) => [c.id, c.type, c.kind, c.breaker, c.restarts, c.checkpoint])).toEqual([
        ['guarded', 'worker', 'stage', 'closed', 0, null],
        ['double', 'worker', 'stage', null, 0, null],
        ['sink', 'worker', 'sink', null, 0, null],
      ]);
      expect(root?.supervisor.children[0]?.mailbox).toMatchObject({ capacity: 1024 });
      expect(root?.supervisor.children[0]?.state).toBe('idle');
      source.end();
      await pipeline.done;
    } finally {
      await server.close();
    }
  });

  it('gives each stage instance’s rates in /tree, and the pipeline’s read and sink rates', async () => {
    const p = stubPipeline('rated', ['slow', 'sink']);
    p.stages.slow = stageStatsOf('slow', { eventsIn: 250, processedPerSecond: 12.5, recentPerSecond: 14 });
    p.stages.sink = stageStatsOf('sink', { kind: 'sink', eventsIn: 240, processedPerSecond: 12, recentPerSecond: 13.5 });
    const stats = p.stats;
    p.stats = () => ({ ...stats(), eventsPerSecond: 60, sinkPerSecond: 12, recent: { windowMs: 10_000, sourcePerSecond: 14.5, sinkPerSecond: 13.5 } });
    const server = await serve({ pipelines: [p], port: 0 });
    try {
      const root = (JSON.parse((await httpGet(server.url, '/tree')).body) as TreeSnapshot).pipelines[0];
      expect(root).toMatchObject({ eventsPerSecond: 60, sinkPerSecond: 12, recent: { windowMs: 10_000, sourcePerSecond: 14.5, sinkPerSecond: 13.5 } });
      expect(root?.supervisor.children.map((c) => [c.id, c.rate])).toEqual([
        ['slow', { processedPerSecond: 12.5, recentPerSecond: 14 }],
        ['sink', { processedPerSecond: 12, recentPerSecond: 13.5 }],
      ]);
    } finally {
      await server.close();
    }
  });

  it('fills a stage’s last checkpoint in /tree once the stage reports one', async () => {
    const p = stubPipeline('ck', ['count', 'other']);
    const server = await serve({ pipelines: [p], port: 0 });
    try {
      const checkpointOf = async (stage: string) =>
        (JSON.parse((await httpGet(server.url, '/tree')).body) as TreeSnapshot).pipelines[0]?.supervisor.children.find((c) => c.id === stage)?.checkpoint;
      expect(await checkpointOf('count')).toBeNull();
      p.observers.emit({ type: 'steadfast.checkpoint.stage_written', stage: 'count', version: 1, bytes: 10, ms: 1 });
      p.observers.emit({ type: 'steadfast.checkpoint.stage_written', stage: 'count', version: 2, bytes: 12, ms: 2 });
      expect(await checkpointOf('count')).toMatchObject({ version: 2, bytes: 12, ms: 2, at: expect.any(Number) });
      expect(await checkpointOf('other')).toBeNull();
    } finally {
      await server.close();
    }
    expect(p.observers.size).toBe(0); // close() removed the metrics', health's and dashboard's listeners
  });

  it('refuses a Host header that is not the bound host:port with 400 (DNS rebinding), unless allowed', async () => {
    const p = stubPipeline('hosts', ['s']);
    const server = await serve({ pipelines: [p], port: 0, allowedHosts: ['localhost'] });
    try {
      const status = async (host: string | null) => (await httpGet(server.url, '/health', { host })).status;
      expect(await status(`127.0.0.1:${server.port}`)).toBe(200);
      expect(await status(`localhost:${server.port}`)).toBe(200);
      expect(await status(`LOCALHOST:${server.port}`)).toBe(200);
      expect(await status(`evil.example:${server.port}`)).toBe(400);
      expect(await status('127.0.0.1')).toBe(400);
      expect(await status(`127.0.0.1:${server.port + 1}`)).toBe(400);
      expect(await status(null)).toBe(400); // no Host header at all
      expect((await httpGet(server.url, '/', { host: `evil.example:${server.port}` })).body).not.toContain('<html');
    } finally {
      await server.close();
    }
  });

  it('accepts localhost on a loopback address without being told, and still refuses other names', async () => {
    const p = stubPipeline('loop', ['s']);
    const server = await serve({ pipelines: [p], port: 0 });
    try {
      const status = async (host: string) => (await httpGet(server.url, '/health', { host })).status;
      expect(await status(`localhost:${server.port}`)).toBe(200);
      expect(await status(`127.0.0.1:${server.port}`)).toBe(200);
      expect(await status(`attacker.example:${server.port}`)).toBe(400);
    } finally {
      await server.close();
    }
  });

  it('answers 404 for unknown paths and 405 (with Allow) for other methods', async () => {
    const server = await serve({ pipelines: [], port: 0 });
    try {
      expect((await httpGet(server.url, '/nope')).status).toBe(404);
      expect((await httpGet(server.url, '/metrics/../x')).status).toBe(404);
      expect((await httpGet(server.url, '/constructor')).status).toBe(404);
      const post = await httpGet(server.url, '/metrics', { method: 'POST' });
      expect([post.status, post.headers.allow]).toEqual([405, 'GET']);
      expect((await httpGet(server.url, '/health?verbose=1')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('serves the dashboard page as is, with a strict content security policy', async () => {
    const server = await serve({ pipelines: [], port: 0 });
    try {
      const page = await httpGet(server.url, '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.body).toContain("new EventSource('events')");
    } finally {
      await server.close();
    }
  });

  it('streams snapshots and events over /events, and close() ends the stream and leaves no handles', async () => {
    const before = activeResources();
    const source = pushSource<number>();
    let crashed = false;
    const fragile = defineStage({
      name: 'fragile',
      onFailure: 'restart',
      process: (n: number) => {
        if (n === 13 && !crashed) {
          crashed = true;
          throw new Error('unlucky');
        }
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'live', source, stages: [fragile], sink: toArray(), supervision: fast, onError: () => {}, logLevel: 'silent' });
    const server = await serve({ pipelines: [pipeline], port: 0, updateMs: 50 });
    await pipeline.start();
    const stream = await openEvents(server.url);
    const first = (await stream.next((e) => e.event === 'snapshot')).data as DashboardSnapshot;
    expect(first.pipelines[0]?.id).toBe('live');
    expect(first.health.state).toBe('running');

    await source.push(13);
    const restart = await stream.next((e) => e.event === 'observation');
    expect(restart.data).toMatchObject({ pipeline: 'live', event: { type: 'steadfast.supervisor.restarting', stage: 'fragile', exit: 'error', error: expect.stringContaining('unlucky') } });
    const restarted = (e: { event: string; data: unknown }) =>
      e.event === 'snapshot' && (e.data as DashboardSnapshot).pipelines[0]?.supervisor.children[0]?.restarts === 1;
    await stream.next(restarted);

    await server.close();
    await stream.ended;
    source.end();
    await pipeline.stop();
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('fails with HTTP_LISTEN_FAILED on a port in use, and releases what it made', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const p = stubPipeline('busy', ['s']);
    const metrics = createMetrics();
    try {
      await expect(serve({ pipelines: [p], port, metrics })).rejects.toMatchObject({ code: 'HTTP_LISTEN_FAILED' });
      expect(p.observers.size).toBe(1); // the metrics given stay; serve's own health and feed are gone
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('rejects bad options with CONFIG_INVALID', async () => {
    const p = stubPipeline('dup', ['s']);
    const check = (options: unknown) => () => resolveServeOptions(options);
    expectConfigError(check({ pipelines: 'x' }), 'serve.pipelines', 'x', '"x"');
    expectConfigError(check({ pipelines: [], port: 70_000 }), 'serve.port', 70_000, '70000');
    expectConfigError(check({ pipelines: [], host: 'a b' }), 'serve.host', 'a b', '"a b"');
    expectConfigError(check({ pipelines: [p, p] }), 'serve.pipelines[1].name', 'dup', '"dup"');
    expectConfigError(check({ pipelines: [], hots: 'x' }), 'serve.hots', 'x', '"x"');
    expectConfigError(check({ pipelines: [], updateMs: 1 }), 'serve.updateMs', 1, '1');
    await expect(serve({ pipelines: [], port: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'serve.port' });
  });
});
