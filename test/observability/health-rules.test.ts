import { describe, expect, it } from 'vitest';
import { availability, stageHealth, systemState, type HealthRules, type StageHealthInput } from '../../src/observability/health-rules.js';
import { LatencyWindow, rank } from '../../src/observability/latency-window.js';

const rules: HealthRules = { staleAfterMs: 30_000, failureRate: { degraded: 0.05, unhealthy: 0.5 }, minEvents: 5, slowCallMs: 100 };
const calm: StageHealthInput = { state: 'idle', breaker: 'closed', depth: 0, ok: 100, failed: 0, restarts: 0, p99: 10, idleMs: 0 };
const judge = (changes: Partial<StageHealthInput>) => stageHealth({ ...calm, ...changes }, rules);

describe('stage health rules', () => {
  it('calls a calm stage healthy with no reasons', () => {
    expect(judge({})).toEqual({ status: 'healthy', reasons: [], stale: false, failureRate: 0 });
  });

  it.each<[string, Partial<StageHealthInput>, string]>([
    ['crashed', { state: 'crashed' }, 'stage crashed'],
    ['failed', { state: 'failed' }, 'stage failed'],
    ['breaker open', { breaker: 'open' }, 'breaker open'],
    ['breaker isolated', { breaker: 'isolated' }, 'breaker isolated'],
    ['stuck', { depth: 3, idleMs: 30_001 }, 'stuck: 3 events waiting 30001 ms with no call finished'],
    ['stuck, its events waiting longer than staleAfterMs', { depth: 3, idleMs: 90_000, waitingMs: 30_001 }, 'stuck: 3 events waiting 30001 ms with no call finished'],
    ['failing half its events', { ok: 5, failed: 5 }, 'failure rate 0.5 >= 0.5'],
  ])('calls a stage unhealthy when %s', (_, changes, reason) => {
    expect(judge(changes)).toMatchObject({ status: 'unhealthy', reasons: [reason] });
  });

  it.each<[string, Partial<StageHealthInput>, string]>([
    ['its breaker is half-open', { breaker: 'halfOpen' }, 'breaker halfOpen'],
    ['failing 5 % of its events', { ok: 95, failed: 5 }, 'failure rate 0.05 >= 0.05'],
    ['restarted in the window', { restarts: 2 }, '2 restarts in the window'],
    ['its p99 is over slowCallMs', { p99: 100.5 }, 'p99 100.5 ms > 100 ms'],
  ])('calls a stage degraded when %s', (_, changes, reason) => {
    expect(judge(changes)).toMatchObject({ status: 'degraded', reasons: [reason] });
  });

  it('lets an unhealthy reason win over degraded ones, and lists every reason of the worst level', () => {
    expect(judge({ breaker: 'open', restarts: 1, state: 'crashed' })).toMatchObject({ status: 'unhealthy', reasons: ['stage crashed', 'breaker open'] });
  });

  it('keeps an idle stage with an empty mailbox healthy but stale, and judges no failure rate below minEvents', () => {
    expect(judge({ idleMs: 60_000 })).toMatchObject({ status: 'healthy', stale: true });
    expect(judge({ idleMs: 30_000, depth: 1 })).toMatchObject({ status: 'healthy', stale: false });
    expect(judge({ ok: 0, failed: 4 })).toMatchObject({ status: 'healthy', failureRate: 1 });
    expect(judge({ ok: 0, failed: 5 }).status).toBe('unhealthy');
  });

  it('does not call a stage stuck when its events arrived after an idle spell, only once they have waited past staleAfterMs', () => {
    expect(judge({ depth: 1, idleMs: 60_000, waitingMs: 5 })).toMatchObject({ status: 'healthy', stale: true });
    expect(judge({ depth: 1, idleMs: 60_000, waitingMs: 30_000 }).status).toBe('healthy');
    expect(judge({ depth: 1, idleMs: 60_000, waitingMs: 30_001 }).status).toBe('unhealthy');
    // A call that finished recently counts even if the events are older (a backlog being worked off).
    expect(judge({ depth: 1, idleMs: 10, waitingMs: 60_000 }).status).toBe('healthy');
    expect(judge({ depth: 1, idleMs: 30_001, waitingMs: null }).status).toBe('unhealthy');
  });

  it('does not judge latency without slowCallMs or without calls', () => {
    expect(stageHealth({ ...calm, p99: 1e9 }, { ...rules, slowCallMs: undefined }).status).toBe('healthy');
    expect(judge({ p99: null }).status).toBe('healthy');
  });
});

describe('system health', () => {
  it('weighs availability as Σ wᵢ·hᵢ / Σ wᵢ with h = 1, 0.5, 0', () => {
    expect(availability([{ weight: 3, status: 'healthy' }, { weight: 1, status: 'unhealthy' }])).toBe(0.75);
    expect(availability([{ weight: 1, status: 'degraded' }, { weight: 1, status: 'healthy' }])).toBe(0.75);
    expect(availability([{ weight: 0, status: 'unhealthy' }, { weight: 2, status: 'healthy' }])).toBe(1);
    expect(availability([])).toBe(1);
  });

  it('is running at 0.9 and above, degraded from 0.5 up to below 0.9, critical below 0.5', () => {
    const t = { degraded: 0.9, critical: 0.5 };
    expect([1, 0.9, 0.8999, 0.5, 0.4999, 0].map((a) => systemState(a, t))).toEqual(['running', 'running', 'degraded', 'degraded', 'critical', 'critical']);
  });
});

describe('latency window', () => {
  it('gives nearest-rank percentiles of the calls inside the window only', () => {
    const w = new LatencyWindow(256);
    for (let i = 1; i <= 100; i++) w.add(1000 + i, i);
    w.add(0, 1e6); // too old to count
    expect(w.percentiles(1000)).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(w.percentiles(1091)).toEqual({ p50: 95, p95: 100, p99: 100 });
    expect(w.percentiles(5000)).toBeNull();
  });

  it('keeps only the last `capacity` calls', () => {
    const w = new LatencyWindow(4);
    for (const ms of [100, 100, 1, 2, 3, 4]) w.add(10, ms);
    expect(w.percentiles(0)).toEqual({ p50: 2, p95: 4, p99: 4 });
    expect(rank([7], 0.99)).toBe(7);
  });
});
