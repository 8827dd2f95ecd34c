import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPipeline, defineStage, fromIterable, pushSource, toArray } from '../../src/index.js';
import { createHealthMonitor, type HealthReport } from '../../src/observability/health.js';
import type { SystemState } from '../../src/observability/health-rules.js';
import { expectConfigError } from '../helpers/config-error.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { stageStatsOf, stubPipeline } from './stub-pipeline.js';

describe('health monitor (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('moves running → degraded → critical → running as stages fail and recover, on its background checks', () => {
    const p = stubPipeline('shop', ['a', 'b', 'c', 'd']);
    const health = createHealthMonitor({ pipelines: [p], intervalMs: 1000, windowMs: 10_000 });
    const changes: Array<[SystemState | undefined, SystemState, number]> = [];
    health.onChange((report, previous) => changes.push([previous, report.state, report.availability]));

    vi.advanceTimersByTime(1000);
    expect(changes).toEqual([[undefined, 'running', 1]]);

    p.stages.a = stageStatsOf('a', { status: 'crashed' }); // 3 of 4: 0.75
    vi.advanceTimersByTime(1000);
    p.stages.b = stageStatsOf('b', { resilience: { retries: 0, degraded: 0, deadLetters: 0, breaker: 'open' } }); // 2 of 4: 0.5
    vi.advanceTimersByTime(1000);
    p.stages.c = stageStatsOf('c', { resilience: { retries: 0, degraded: 0, deadLetters: 0, breaker: 'halfOpen' } }); // 1.5 of 4
    vi.advanceTimersByTime(1000);
    p.stages.a = stageStatsOf('a');
    p.stages.b = stageStatsOf('b');
    p.stages.c = stageStatsOf('c');
    vi.advanceTimersByTime(1000);
    expect(changes).toEqual([
      [undefined, 'running', 1],
      ['running', 'degraded', 0.75],
      ['degraded', 'critical', 0.375],
      ['critical', 'running', 1],
    ]);
    health.stop();
  });

  it('counts failures within the window only: a burst of failures ages out', () => {
    const p = stubPipeline('win', ['s']);
    const health = createHealthMonitor({ pipelines: [p], intervalMs: 1000, windowMs: 5000 });
    p.stages.s = stageStatsOf('s', { eventsIn: 100, failedEvents: 60 });
    vi.advanceTimersByTime(1000);
    expect(health.last?.pipelines[0]?.stages[0]).toMatchObject({ status: 'unhealthy', window: { ok: 40, failed: 60, failureRate: 0.6 }, counts: { ok: 40, failed: 60 } });
    vi.advanceTimersByTime(4000);
    p.stages.s = stageStatsOf('s', { eventsIn: 200, failedEvents: 60 });
    vi.advanceTimersByTime(2000);
    // The window (the last 5 s) now starts after the burst: 100 good events, none failed.
    expect(health.check().pipelines[0]?.stages[0]).toMatchObject({ status: 'healthy', window: { ok: 100, failed: 0 }, counts: { ok: 140, failed: 60 } });
    health.stop();
  });

  it('reports a stage stale after staleAfterMs without a call, and unhealthy (stuck) only while events wait', () => {
    const p = stubPipeline('stale', ['s']);
    const health = createHealthMonitor({ pipelines: [p], staleAfterMs: 3000, intervalMs: 1000 });
    p.call('s', 5);
    vi.advanceTimersByTime(3000);
    expect(health.last?.pipelines[0]?.stages[0]).toMatchObject({ stale: false, status: 'healthy', idleMs: 3000 });
    vi.advanceTimersByTime(1000);
    expect(health.last?.pipelines[0]?.stages[0]).toMatchObject({ stale: true, status: 'healthy' });
    p.stages.s = stageStatsOf('s', { mailbox: { depth: 7, capacity: 1024, peak: 7, replaying: 0 } });
    expect(health.check()).toMatchObject({ state: 'critical', pipelines: [{ stages: [{ status: 'unhealthy', reasons: ['stuck: 7 events waiting 4000 ms with no call finished'] }] }] });
    p.call('s', 5);
    expect(health.check().state).toBe('running');
    health.stop();
  });

  it('gives rolling p50/p95/p99 of call times within the window', () => {
    const p = stubPipeline('lat', ['s']);
    const health = createHealthMonitor({ pipelines: [p], windowMs: 10_000, slowCallMs: 50 });
    for (let i = 1; i <= 100; i++) p.call('s', 1000); // slow calls, soon out of the window
    vi.advanceTimersByTime(10_001);
    for (let i = 1; i <= 100; i++) p.call('s', i);
    expect(health.check().pipelines[0]?.stages[0]).toMatchObject({ latencyMs: { p50: 50, p95: 95, p99: 99 }, status: 'degraded', reasons: ['p99 99 ms > 50 ms'] });
    vi.advanceTimersByTime(10_001);
    expect(health.check().pipelines[0]?.stages[0]).toMatchObject({ latencyMs: null, status: 'healthy' });
    health.stop();
  });

  it('uses weights by node name and the thresholds given', () => {
    const p = stubPipeline('w', ['core', 'extra']);
    p.stages.extra = stageStatsOf('extra', { status: 'crashed' });
    const weighted = createHealthMonitor({ pipelines: [p], weights: { core: 9 } });
    expect(weighted.check()).toMatchObject({ state: 'running', availability: 0.9 });
    const strict = createHealthMonitor({ pipelines: [p], weights: { core: 9 }, thresholds: { degraded: 0.95, critical: 0.9 } });
    expect(strict.check().state).toBe('degraded');
    const byFunction = createHealthMonitor({ pipelines: [p], weights: (_, stage) => (stage.name === 'extra' ? 0 : 1) });
    expect(byFunction.check().availability).toBe(1);
    for (const h of [weighted, strict, byFunction]) h.stop();
  });

  it('stops its timer and the pipelines’ listeners on stop()', () => {
    const p = stubPipeline('stop', ['s']);
    const health = createHealthMonitor({ pipelines: [p] });
    expect(vi.getTimerCount()).toBe(1);
    expect(p.observers.size).toBe(1);
    health.stop();
    health.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(p.observers.size).toBe(0);
  });
});

describe('health monitor', () => {
  it('scores a real run: the stage failing most of its events is unhealthy, the rest healthy', async () => {
    const picky = defineStage({
      name: 'picky',
      onFailure: 'resume',
      process: (n: number) => {
        if (n % 4 !== 0) throw new Error('mostly no');
        return { emit: [n] };
      },
    });
    const pass = defineStage({ name: 'pass', process: (n: number) => ({ emit: [n] }) });
    const pipeline = createPipeline({ name: 'real', source: fromIterable(Array.from({ length: 40 }, (_, i) => i)), stages: [pass, picky], sink: toArray(), onError: () => {}, logLevel: 'silent' });
    const health = createHealthMonitor({ pipelines: [pipeline] });
    await pipeline.run();
    const report: HealthReport = health.check();
    const byName = Object.fromEntries(report.pipelines[0]?.stages.map((s) => [s.stage, s]) ?? []);
    expect(byName.picky).toMatchObject({ status: 'unhealthy', counts: { ok: 10, failed: 30 }, window: { failureRate: 0.75 } });
    expect(byName.pass?.status).toBe('healthy');
    expect(byName.pass?.latencyMs?.p99).toBeGreaterThanOrEqual(0);
    expect(report.pipelines[0]?.status).toBe('stopped');
    health.stop();
  });

  it('does not call a stage stuck a few ms into a normal call after an idle spell, only once the call has run past staleAfterMs', async () => {
    let t = 1_000_000;
    const clock = { now: () => t, monotonic: () => t };
    const gates: Array<() => void> = [];
    const slow = defineStage({
      name: 'slow',
      process: async (n: number) => {
        if (n > 0) await new Promise<void>((resolve) => gates.push(resolve));
        return { emit: [n] };
      },
    });
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'idle', source, stages: [slow], sink, logLevel: 'silent', clock });
    const health = createHealthMonitor({ pipelines: [pipeline], staleAfterMs: 200, clock });
    const slowHealth = () => health.check().pipelines[0]?.stages.find((s) => s.stage === 'slow');
    try {
      await pipeline.start();
      await source.push(0);
      await vi.waitFor(() => expect(sink.items).toEqual([0]));
      t += 500; // idle
      await source.push(1);
      await vi.waitFor(() => expect(gates.length).toBe(1)); // the call has started
      t += 5;
      expect(pipeline.stats().stages.slow?.waitingMs).toBe(5);
      expect(slowHealth()).toMatchObject({ status: 'healthy', reasons: [], stale: true, idleMs: 505, waitingMs: 5 });
      t += 200; // the call really hangs now
      expect(slowHealth()).toMatchObject({ status: 'unhealthy', reasons: ['stuck: 1 events waiting 205 ms with no call finished'], waitingMs: 205 });
      gates.shift()?.();
      await vi.waitFor(() => expect(sink.items).toEqual([0, 1]));
      expect(pipeline.stats().stages.slow?.waitingMs).toBeNull();
      expect(slowHealth()).toMatchObject({ status: 'healthy', waitingMs: null });
    } finally {
      health.stop();
      for (const open of gates.splice(0)) open();
      source.end();
      await pipeline.stop();
    }
  });

  it('counts a backlog left after a call from the end of that call, and a fresh arrival from its arrival', async () => {
    let t = 0;
    const clock = { now: () => t, monotonic: () => t };
    const gates: Array<() => void> = [];
    const slow = defineStage({ name: 'slow', maxBatch: 1, process: async (n: number) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return { emit: [n] };
    } });
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'backlog', source, stages: [slow], sink, logLevel: 'silent', clock });
    const waiting = () => pipeline.stats().stages.slow?.waitingMs;
    try {
      await pipeline.start();
      expect(waiting()).toBeNull();
      await source.push(1);
      await vi.waitFor(() => expect(gates.length).toBe(1));
      t += 10;
      await source.push(2);
      await vi.waitFor(() => expect(pipeline.stats().stages.slow?.mailbox.depth).toBe(2));
      t += 30;
      expect(waiting()).toBe(40); // since event 1 arrived
      gates.shift()?.();
      await vi.waitFor(() => expect(gates.length).toBe(1)); // event 2's call started when event 1's ended
      t += 7;
      expect(waiting()).toBe(7);
      gates.shift()?.();
      await vi.waitFor(() => expect(sink.items).toEqual([1, 2]));
      expect(waiting()).toBeNull();
    } finally {
      for (const open of gates.splice(0)) open();
      source.end();
      await pipeline.stop();
    }
  });

  it('leaves no timer behind after stop(), and its timer never keeps a process alive', async () => {
    const before = activeResources();
    const health = createHealthMonitor({ intervalMs: 10 });
    health.stop();
    await settle();
    expect(leakedSince(before)).toEqual({});

    // A program that forgets stop() still exits at once.
    const module = fileURLToPath(new URL('../../src/observability/health.ts', import.meta.url));
    const script = `const { createHealthMonitor } = await import(${JSON.stringify(module)}); createHealthMonitor({ intervalMs: 10 }); console.log('started');`;
    const started = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    expect(output.trim()).toBe('started');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('rejects bad options with CONFIG_INVALID naming the field', () => {
    expectConfigError(() => createHealthMonitor({ windowMs: 0 }), 'createHealthMonitor.windowMs', 0, '0');
    expectConfigError(() => createHealthMonitor({ thresholds: { degraded: 1.5 } }), 'createHealthMonitor.thresholds.degraded', 1.5, '1.5');
    expectConfigError(() => createHealthMonitor({ thresholds: { degraded: 0.4, critical: 0.6 } }), 'createHealthMonitor.thresholds.critical', 0.6, '0.6');
    expectConfigError(() => createHealthMonitor({ failureRate: { degraded: 0.6, unhealthy: 0.5 } }), 'createHealthMonitor.failureRate.degraded', 0.6, '0.6');
    expectConfigError(() => createHealthMonitor({ weights: { a: -1 } }), 'createHealthMonitor.weights.a', -1, '-1');
    expectConfigError(() => createHealthMonitor({ intervalMs: 5 }), 'createHealthMonitor.intervalMs', 5, '5');
    expectConfigError(() => createHealthMonitor({ staleAfter: 1 } as never), 'createHealthMonitor.staleAfter', 1, '1');
    expectConfigError(() => createHealthMonitor({ pipelines: [42] as never }), 'createHealthMonitor.pipelines[0]', 42, '42');
  });
});
