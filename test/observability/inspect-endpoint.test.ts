import { describe, expect, it, vi } from 'vitest';
import { createPipeline, defineStage, pushSource, toArray } from '../../src/index.js';
import { serve } from '../../src/observability/server.js';
import { resolveServeOptions } from '../../src/observability/server-options.js';
import type { InspectedEntry } from '../../src/observability/inspection-log.js';
import { expectConfigError } from '../helpers/config-error.js';
import { httpGet } from './http.js';
import { stubPipeline } from './stub-pipeline.js';

const double = defineStage({ name: 'double', process: (n: number) => ({ emit: [n * 2] }) });

async function until(check: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(check()).toBe(true), { timeout: 5_000, interval: 5 });
}

describe('/inspect', () => {
  it('answers the latest inspection events of a stage actor and of the supervisor, by actor id', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'insp', source, stages: [double], sink, logLevel: 'silent' });
    const server = await serve({ pipelines: [pipeline], port: 0, inspectEvents: 20 });
    try {
      await pipeline.start();
      for (let i = 0; i < 30; i++) await source.push(i);
      await until(() => sink.items.length === 30);
      const reply = await httpGet(server.url, '/inspect?actor=double');
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = JSON.parse(reply.body) as { pipeline: string; actor: string; events: InspectedEntry[] };
      expect([body.pipeline, body.actor]).toEqual(['insp', 'double']);
      expect(body.events.length).toBeGreaterThan(0);
      expect(body.events.length).toBeLessThanOrEqual(20);
      expect(body.events.filter((e) => e.kind === 'event').map((e) => e.type)).toContain('steadfast.stage.input');
      expect(body.events.filter((e) => e.kind === 'snapshot').map((e) => e.state)).toContain('busy');
      const listing = JSON.parse((await httpGet(server.url, '/inspect')).body) as { pipelines: Array<{ pipeline: string; actors: string[] }> };
      // The stage (and the sink) were inspected from the start of the run; the supervisor too.
      expect(listing.pipelines).toEqual([{ pipeline: 'insp', actors: expect.arrayContaining(['double', 'insp', 'sink']) }]);
      const named = JSON.parse((await httpGet(server.url, '/inspect?pipeline=insp&actor=insp')).body) as { events: InspectedEntry[] };
      expect(named.events.map((e) => e.state)).toContain('running');
      expect(JSON.parse((await httpGet(server.url, '/inspect?actor=nobody')).body)).toEqual({ pipeline: 'insp', actor: 'nobody', events: [] });
      const unknown = await httpGet(server.url, '/inspect?pipeline=other&actor=double');
      expect([unknown.status, JSON.parse(unknown.body).error]).toEqual([404, 'no pipeline "other" is served']);
    } finally {
      await server.close();
      source.end();
      await pipeline.stop();
    }
  });

  it('shows when each stage actor was created, also for a server started after the pipeline and for a restarted stage', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const picky = defineStage({
      name: 'picky',
      onFailure: 'restart',
      process: (n: number) => {
        if (n < 0) throw new Error('negative');
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'born', source, stages: [picky], sink, logLevel: 'silent', onError: () => {}, supervision: { backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0 } } });
    await pipeline.start();
    await source.push(1);
    await until(() => sink.items.length === 1);
    const server = await serve({ pipelines: [pipeline], port: 0 });
    const kinds = async (actor: string) => (JSON.parse((await httpGet(server.url, `/inspect?actor=${actor}`)).body) as { events: InspectedEntry[] }).events.map((e) => e.kind);
    try {
      // Served late: it learns of the live actors as it subscribes.
      expect((await kinds('picky'))[0]).toBe('actor');
      expect((await kinds('sink'))[0]).toBe('actor');
      expect((await kinds('born'))[0]).toBe('actor');
      await source.push(-1);
      await until(() => pipeline.stats().stages.picky?.restarts === 1);
      await source.push(2);
      await until(() => sink.items.length === 2);
      expect((await kinds('picky')).filter((k) => k === 'actor')).toHaveLength(2);
    } finally {
      await server.close();
      source.end();
      await pipeline.stop();
    }
  });

  it('asks which pipeline when several are served', async () => {
    const server = await serve({ pipelines: [stubPipeline('a', ['s']), stubPipeline('b', ['s'])], port: 0 });
    try {
      const reply = await httpGet(server.url, '/inspect?actor=s');
      expect([reply.status, JSON.parse(reply.body).error]).toEqual([400, 'give pipeline=<name> with actor: 2 pipelines are served']);
      expect((await httpGet(server.url, '/inspect?actor=s&pipeline=b')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('subscribes to each pipeline’s inspection while serving, and unsubscribes on close', async () => {
    const off = vi.fn();
    const inspect = vi.fn(() => off);
    const server = await serve({ pipelines: [{ ...stubPipeline('s', ['x']), inspect }], port: 0 });
    expect(inspect).toHaveBeenCalledTimes(1);
    expect(off).not.toHaveBeenCalled();
    await server.close();
    expect(off).toHaveBeenCalledTimes(1);
  });

  it('is off with inspectEvents: 0, without subscribing', async () => {
    const inspect = vi.fn(() => () => {});
    const server = await serve({ pipelines: [{ ...stubPipeline('s', ['x']), inspect }], port: 0, inspectEvents: 0 });
    try {
      const reply = await httpGet(server.url, '/inspect?actor=x');
      expect(reply.status).toBe(404);
      expect(inspect).not.toHaveBeenCalled();
    } finally {
      await server.close();
    }
  });

  it('checks inspectEvents', () => {
    expectConfigError(() => resolveServeOptions({ pipelines: [], inspectEvents: -1 }), 'serve.inspectEvents', -1, '-1');
  });
});

describe('serve({ metrics: false })', () => {
  it('serves no /metrics, and the rest as usual', async () => {
    const server = await serve({ pipelines: [stubPipeline('m', ['x'])], port: 0, metrics: false });
    try {
      const metrics = await httpGet(server.url, '/metrics');
      expect([metrics.status, metrics.body]).toEqual([404, 'metrics are off\n']);
      expect((await httpGet(server.url, '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
