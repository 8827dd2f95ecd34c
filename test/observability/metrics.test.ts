import { register as globalRegistry, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createPipeline, defineStage, fromIterable, pushSource, toArray, type PipelineStats } from '../../src/index.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { Observers, type PipelineObservation } from '../../src/pipeline/observer.js';
import type { ObservedPipeline } from '../../src/observability/tracked-pipeline.js';
import { configErrorOf, expectConfigError } from '../helpers/config-error.js';
import { parseExposition, samplesOf, valueOf, type Family } from './exposition.js';

const fast = { backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0, resetAfterMs: 60_000 } };
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

const parse = defineStage({
  name: 'parse',
  onFailure: 'resume',
  process: (n: number) => {
    if (n % 50 === 7) throw new Error(`bad ${n}`);
    return { emit: [n] };
  },
});
const double = defineStage({ name: 'double', process: (n: number) => ({ emit: [n * 2] }) });

async function scrape(metrics: { expose(): Promise<string> }): Promise<Map<string, Family>> {
  return parseExposition(await metrics.expose());
}

const DESIGN_METRICS: Array<[string, string]> = [
  ['steadfast_stage_events_total', 'counter'],
  ['steadfast_stage_latency_seconds', 'histogram'],
  ['steadfast_mailbox_depth', 'gauge'],
  ['steadfast_breaker_state', 'gauge'],
  ['steadfast_breaker_transitions_total', 'counter'],
  ['steadfast_restarts_total', 'counter'],
  ['steadfast_escalations_total', 'counter'],
  ['steadfast_flapping_total', 'counter'],
  ['steadfast_dead_letters_total', 'counter'],
  ['steadfast_checkpoint_duration_seconds', 'histogram'],
  ['steadfast_checkpoint_bytes', 'gauge'],
  ['steadfast_checkpoint_corrupt_total', 'counter'],
];

describe('metrics', () => {
  it('exports every metric of DESIGN.md with its type, and the counts of a run as stats() has them', async () => {
    const metrics = createMetrics();
    const pipeline = createPipeline({ name: 'orders', source: fromIterable(numbers(200)), stages: [parse, double], sink: toArray(), onError: () => {}, logLevel: 'silent' });
    metrics.track(pipeline);
    const stats = await pipeline.run();
    const families = await scrape(metrics);

    for (const [name, type] of DESIGN_METRICS) expect(families.get(name)?.type, name).toBe(type);
    const at = (stage: string, outcome: string) => valueOf(families, 'steadfast_stage_events_total', { pipeline: 'orders', stage, outcome });
    expect([at('parse', 'ok'), at('parse', 'failed')]).toEqual([196, 4]);
    expect([at('double', 'ok'), at('double', 'failed')]).toEqual([196, 0]);
    // One latency observation per call the stage made.
    expect(valueOf(families, 'steadfast_stage_latency_seconds_count', { pipeline: 'orders', stage: 'parse' })).toBe(stats.stages.parse?.calls);
    expect(valueOf(families, 'steadfast_stage_latency_seconds_count', { pipeline: 'orders', stage: 'double' })).toBe(stats.stages.double?.calls);
    expect(valueOf(families, 'steadfast_mailbox_depth', { pipeline: 'orders', stage: 'parse' })).toBe(0);
    expect(valueOf(families, 'steadfast_restarts_total', { pipeline: 'orders', stage: 'parse' })).toBe(0);
    expect(valueOf(families, 'steadfast_escalations_total', { pipeline: 'orders' })).toBe(0);
  });

  it('counts restarts of a crashing stage, then an escalation and the flapping pattern that caused it', async () => {
    const metrics = createMetrics();
    let crashes = 0;
    const once = defineStage({
      name: 'once',
      onFailure: 'restart',
      process: (n: number) => {
        if (n === 5 && crashes++ === 0) throw new Error('first time only');
        return { emit: [n] };
      },
    });
    const restarting = createPipeline({ name: 'restarting', source: fromIterable(numbers(20)), stages: [once], sink: toArray(), supervision: fast, onError: () => {}, logLevel: 'silent' });
    metrics.track(restarting);
    await restarting.run();

    const always = defineStage({ name: 'always', onFailure: 'restart', process: (): { emit: number[] } => { throw new Error('never works'); } });
    const failing = createPipeline({
      name: 'failing',
      source: fromIterable(numbers(20)),
      stages: [always],
      sink: toArray(),
      supervision: { ...fast, maxRestarts: 10, flapping: { runaway: 3, escalate: true } },
      onError: () => {},
      logLevel: 'silent',
    });
    metrics.track(failing);
    await expect(failing.run()).rejects.toMatchObject({ code: 'FLAPPING_DETECTED' });

    const families = await scrape(metrics);
    expect(valueOf(families, 'steadfast_restarts_total', { pipeline: 'restarting', stage: 'once' })).toBe(1);
    expect(valueOf(families, 'steadfast_escalations_total', { pipeline: 'restarting' })).toBe(0);
    expect(valueOf(families, 'steadfast_escalations_total', { pipeline: 'failing' })).toBe(1);
    expect(valueOf(families, 'steadfast_flapping_total', { pipeline: 'failing', pattern: 'RUNAWAY' })).toBe(1);
    expect(valueOf(families, 'steadfast_restarts_total', { pipeline: 'failing', stage: 'always' })).toBe(2);
  });

  it('shows a breaker open (2) while running, counts its transitions, and dead letters', async () => {
    const metrics = createMetrics();
    const source = pushSource<number>();
    const flaky = defineStage({
      name: 'flaky',
      breaker: { consecutiveFailures: 2, openMs: 60_000 },
      degraded: 'deadLetter',
      process: async (): Promise<{ emit: number[] }> => {
        throw new Error('down');
      },
    });
    const pipeline = createPipeline({ name: 'brk', source, stages: [flaky], sink: toArray(), onError: () => {}, logLevel: 'silent' });
    metrics.track(pipeline);
    await pipeline.start();
    for (const n of numbers(6)) await source.push(n);
    await vi.waitFor(() => expect(pipeline.stats().stages.flaky?.eventsIn).toBe(6));

    const families = await scrape(metrics);
    expect(valueOf(families, 'steadfast_breaker_state', { pipeline: 'brk', breaker: 'brk.flaky' })).toBe(2);
    expect(valueOf(families, 'steadfast_breaker_transitions_total', { pipeline: 'brk', breaker: 'brk.flaky', to: 'open' })).toBe(1);
    expect(valueOf(families, 'steadfast_dead_letters_total', { pipeline: 'brk', stage: 'flaky' })).toBe(pipeline.stats().stages.flaky?.resilience?.deadLetters);
    expect(pipeline.stats().stages.flaky?.resilience?.deadLetters).toBeGreaterThan(0);
    source.end();
    await pipeline.stop();
    // A disposed breaker has no state series any more; what it did stays counted.
    const after = await scrape(metrics);
    expect(samplesOf(after, 'steadfast_breaker_state')).toEqual([]);
    expect(valueOf(after, 'steadfast_breaker_transitions_total', { pipeline: 'brk', to: 'open' })).toBe(1);
  });

  it('never throws "already registered": two pipelines, one pipeline made twice, metrics made twice, a shared registry', async () => {
    const first = createMetrics();
    const second = createMetrics();
    expect(first.registry).not.toBe(second.registry);
    const shared = new Registry();
    expect(createMetrics({ registry: shared })).toBe(createMetrics({ registry: shared }));

    const make = (name: string) => createPipeline({ name, source: fromIterable(numbers(10)), stages: [double], sink: toArray(), logLevel: 'silent' });
    const a = make('a');
    const b = make('b');
    const aAgain = make('a');
    for (const metrics of [first, second]) {
      metrics.track(a);
      metrics.track(b);
      metrics.track(aAgain); // a second run of "a": replaces the first
    }
    await Promise.all([a.run(), b.run(), aAgain.run()]);
    expect(first.pipelines()).toEqual([b, aAgain]);
    const families = await scrape(first);
    expect(valueOf(families, 'steadfast_stage_events_total', { pipeline: 'a', stage: 'double', outcome: 'ok' })).toBe(10);
    expect(valueOf(await scrape(second), 'steadfast_stage_events_total', { pipeline: 'b', stage: 'double', outcome: 'ok' })).toBe(10);
    expect(globalRegistry.getMetricsAsArray().filter((m) => String(m.name).startsWith('steadfast_'))).toEqual([]);
  });

  it('deletes the series of an untracked pipeline, histograms included', async () => {
    const metrics = createMetrics();
    const keep = createPipeline({ name: 'keep', source: fromIterable(numbers(10)), stages: [double], sink: toArray(), logLevel: 'silent' });
    const drop = createPipeline({ name: 'drop', source: fromIterable(numbers(10)), stages: [double], sink: toArray(), logLevel: 'silent' });
    metrics.track(keep);
    metrics.track(drop);
    await Promise.all([keep.run(), drop.run()]);
    const labelled = (families: Map<string, Family>, pipeline: string) => [...families.values()].flatMap((f) => f.samples).filter((s) => s.labels.pipeline === pipeline);
    expect(labelled(await scrape(metrics), 'drop').length).toBeGreaterThan(0);

    metrics.untrack(drop);
    const families = await scrape(metrics);
    expect(labelled(families, 'drop')).toEqual([]);
    expect(labelled(families, 'keep').some((s) => s.name === 'steadfast_stage_latency_seconds_count')).toBe(true);
    metrics.untrack(drop); // twice is harmless
  });

  it('deletes the series of replicas removed by scale()', async () => {
    const metrics = createMetrics();
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'scaled', source, graph: { work: { stage: double, from: 'source', replicas: 3, partition: 'roundRobin' } }, sink: toArray(), logLevel: 'silent' });
    metrics.track(pipeline);
    await pipeline.start();
    for (const n of numbers(30)) await pipeline.push(n);
    const stagesIn = (families: Map<string, Family>, metric: string) =>
      new Set(samplesOf(families, metric).map((s) => s.labels.stage).filter((stage) => stage?.startsWith('work')));
    await vi.waitFor(async () => expect(stagesIn(await scrape(metrics), 'steadfast_stage_latency_seconds_count')).toEqual(new Set(['work#0', 'work#1', 'work#2'])));
    await pipeline.scale('work', 1);
    const families = await scrape(metrics);
    for (const metric of ['steadfast_stage_latency_seconds_count', 'steadfast_mailbox_depth', 'steadfast_stage_events_total', 'steadfast_stage_events_per_second']) {
      expect([...stagesIn(families, metric)].filter((stage) => stage !== 'work#0' && stage !== 'work'), metric).toEqual([]);
    }
    source.end();
    await pipeline.done;
  });

  it('escapes names with a quote, a newline and a backslash into a parseable exposition', async () => {
    // Stage and pipeline names are validated ([A-Za-z0-9_.:-]); this view renames them to show that
    // the exposition stays valid whatever a name holds.
    const weird = 'we"ird\nname\\x';
    const real = createPipeline({ name: 'plain', source: fromIterable(numbers(30)), stages: [double], sink: toArray(), logLevel: 'silent' });
    const view: ObservedPipeline = {
      name: weird,
      breakers: real.breakers,
      stats: () => renamed(real.stats(), 'double', weird),
      observe: (listener) => real.observe((event) => listener(event.type === 'steadfast.stage.call' && event.stage === 'double' ? { ...event, stage: weird } : event)),
    };
    const metrics = createMetrics();
    metrics.track(view);
    await real.run();
    const text = await metrics.expose();
    expect(text).toContain('stage="we\\"ird\\nname\\\\x"');
    const families = parseExposition(text);
    expect(valueOf(families, 'steadfast_stage_events_total', { pipeline: weird, stage: weird, outcome: 'ok' })).toBe(30);
    expect(valueOf(families, 'steadfast_stage_latency_seconds_count', { pipeline: weird, stage: weird })).toBe(real.stats().stages.double?.calls);
  });

  it('exports checkpoint duration, size and corruption from checkpoint events', async () => {
    const observers = new Observers();
    const real = createPipeline({ name: 'ckpt', source: fromIterable(numbers(5)), stages: [double], sink: toArray(), logLevel: 'silent' });
    const view: ObservedPipeline = { name: 'ckpt', breakers: real.breakers, stats: () => real.stats(), observe: (l) => observers.add(l) };
    const metrics = createMetrics();
    metrics.track(view);
    const events: PipelineObservation[] = [
      { type: 'steadfast.checkpoint.stage_written', stage: 'double', version: 1, bytes: 120, ms: 3 },
      { type: 'steadfast.checkpoint.stage_written', stage: 'double', version: 2, bytes: 140, ms: 30 },
      { type: 'steadfast.checkpoint.corrupt', stage: 'double', key: 'ckpt!ckpt!double!0000000000000001', reason: 'checksum' },
    ];
    for (const event of events) observers.emit(event);
    const families = await scrape(metrics);
    expect(valueOf(families, 'steadfast_checkpoint_bytes', { pipeline: 'ckpt', stage: 'double' })).toBe(140);
    expect(valueOf(families, 'steadfast_checkpoint_duration_seconds_count', { pipeline: 'ckpt', stage: 'double' })).toBe(2);
    expect(valueOf(families, 'steadfast_checkpoint_duration_seconds_sum', { pipeline: 'ckpt', stage: 'double' })).toBeCloseTo(0.033);
    expect(valueOf(families, 'steadfast_checkpoint_duration_seconds_bucket', { pipeline: 'ckpt', stage: 'double', le: '0.005' })).toBe(1);
    expect(valueOf(families, 'steadfast_checkpoint_corrupt_total', { pipeline: 'ckpt', stage: 'double' })).toBe(1);
    metrics.untrack(view);
    expect(observers.size).toBe(0);
    await real.stop();
  });

  it('rejects bad options with CONFIG_INVALID', () => {
    const notARegistry = {} as Registry;
    expectConfigError(() => createMetrics({ registry: notARegistry }), 'createMetrics.registry', notARegistry, '{}');
    expect(configErrorOf(() => createMetrics({ registy: new Registry() } as never)).field).toBe('createMetrics.registy');
  });
});

function renamed(stats: PipelineStats, from: string, to: string): PipelineStats {
  const stages = Object.fromEntries(Object.entries(stats.stages).map(([key, s]) => (key === from ? [to, { ...s, name: to }] : [key, s])));
  return { ...stats, pipeline: to, stages };
}
