import { describe, expect, it, vi } from 'vitest';
import { createPipeline, defineStage, fromIterable, pushSource, toArray, type SteadfastError } from '../../src/index.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { parseExposition, samplesOf, valueOf } from '../observability/exposition.js';

/** A stage whose dependency is down for odd events: with `partition: { by: n % 2 }` only replica #1 sees them. */
const lookup = defineStage({
  name: 'lookup',
  breaker: { consecutiveFailures: 2, openMs: 60_000 },
  degraded: 'skip',
  process: async (n: number) => {
    if (n % 2 === 1) throw new Error(`down for ${n}`);
    return { emit: [n * 10] };
  },
});

describe('breakers of replicated stages', () => {
  it('gives each replica its own breaker named <pipeline>.<node>#<i>, in the registry, stats and metrics', async () => {
    const metrics = createMetrics();
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const source = pushSource<number>();
    const pipeline = createPipeline({
      name: 'p',
      source,
      graph: { call: { stage: lookup, from: 'source', replicas: 2, partition: { by: (n: number) => n % 2 } }, out: { sink, from: 'call' } },
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    });
    metrics.track(pipeline);
    await pipeline.start();
    expect(pipeline.breakers.list().map((b) => b.name)).toEqual(['p.call#0', 'p.call#1']);
    for (let n = 0; n < 8; n++) await source.push(n);
    await vi.waitFor(() => expect(sink.items).toHaveLength(8));

    // Only the replica that saw the failures tripped; the other one's breaker is its own, and closed.
    expect(pipeline.breakers.get('p.call#1')?.state).toBe('open');
    expect(pipeline.breakers.get('p.call#0')?.state).toBe('closed');
    const stats = pipeline.stats();
    expect(stats.stages['call#0']?.resilience?.breaker).toBe('closed');
    expect(stats.stages['call#1']?.resilience?.breaker).toBe('open');
    const families = parseExposition(await metrics.expose());
    expect(valueOf(families, 'steadfast_breaker_state', { pipeline: 'p', breaker: 'p.call#0' })).toBe(0);
    expect(valueOf(families, 'steadfast_breaker_state', { pipeline: 'p', breaker: 'p.call#1' })).toBe(2);
    expect(errors).toEqual([]);
    source.end();
    await pipeline.stop();
    expect(pipeline.breakers.list()).toEqual([]);
  });

  it('adds a breaker per replica when scaled up and disposes the breakers of replicas scaled away', async () => {
    const metrics = createMetrics();
    const sink = toArray<number>();
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'p', source, graph: { call: { stage: lookup, from: 'source' }, out: { sink, from: 'call' } }, logLevel: 'silent' });
    metrics.track(pipeline);
    await pipeline.start();
    expect(pipeline.breakers.list().map((b) => b.name)).toEqual(['p.call']);

    await pipeline.scale('call', 3);
    expect(pipeline.breakers.list().map((b) => b.name)).toEqual(['p.call', 'p.call#1', 'p.call#2']);
    for (let n = 0; n < 6; n += 2) await source.push(n);
    await vi.waitFor(() => expect(sink.items).toHaveLength(3));
    const scaled = parseExposition(await metrics.expose());
    expect(samplesOf(scaled, 'steadfast_breaker_state').map((s) => s.labels.breaker).sort()).toEqual(['p.call', 'p.call#1', 'p.call#2']);

    await pipeline.scale('call', 1);
    expect(pipeline.breakers.list().map((b) => b.name)).toEqual(['p.call']);
    const shrunk = parseExposition(await metrics.expose());
    expect(samplesOf(shrunk, 'steadfast_breaker_state').map((s) => s.labels.breaker)).toEqual(['p.call']);

    // Scaled up again: the replica gets a fresh breaker under the same name.
    await pipeline.scale('call', 2);
    expect(pipeline.breakers.list().map((b) => b.name)).toEqual(['p.call', 'p.call#1']);
    source.end();
    await pipeline.stop();
    expect(sink.items.sort((a, b) => a - b)).toEqual([0, 20, 40]);
  });

  it('accepts a stage breaker name made of a long pipeline name and a long node name', async () => {
    const pipelineName = 'p'.repeat(128);
    const node = 'n'.repeat(128);
    const pipeline = createPipeline({
      name: pipelineName,
      source: fromIterable([1]),
      graph: { [node]: { stage: lookup, from: 'source', replicas: 2 }, out: { sink: toArray(), from: node } },
      logLevel: 'silent',
    });
    await pipeline.start();
    expect(pipeline.breakers.list().map((b) => b.name)).toEqual([`${pipelineName}.${node}#0`, `${pipelineName}.${node}#1`]);
    await pipeline.stop();
  });
});
