import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DashboardFeed } from '../../src/observability/dashboard-feed.js';
import { createHealthMonitor } from '../../src/observability/health.js';
import { SseHub, type SseLimits } from '../../src/observability/sse-hub.js';
import { stubPipeline } from './stub-pipeline.js';

/** A response whose socket takes `room` bytes and then is full until `drain()`. */
class FakeResponse extends EventEmitter {
  status = 0;
  headers: Record<string, string> = {};
  body = '';
  written = 0;
  writableLength = 0;
  ended = false;
  destroyed = false;
  readonly socket = { remoteAddress: '127.0.0.1', remotePort: 5555 };

  constructor(private room = Number.POSITIVE_INFINITY) {
    super();
  }

  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }

  write(text: string): boolean {
    this.written += text.length;
    const sent = Math.min(this.room, text.length);
    this.room -= sent;
    this.writableLength += text.length - sent;
    return this.writableLength < 16_384;
  }

  end(text = ''): this {
    this.body += text;
    this.ended = true;
    this.emit('close');
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.writableLength = 0;
    this.emit('close');
    return this;
  }

  /** The client read everything. */
  drain(room = Number.POSITIVE_INFINITY): void {
    this.writableLength = 0;
    this.room = room;
    this.emit('drain');
  }
}

const asRes = (res: FakeResponse) => res as unknown as ServerResponse;
const limits: SseLimits = { maxClients: 2, maxBufferedBytes: 100_000, drainTimeoutMs: 1_000, retryAfterS: 10 };

function logged() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { lines, log: () => log };
}

describe('SseHub', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a stream over maxClients with 503, Retry-After and a body that says why, and takes one again once a stream closes', () => {
    const hub = new SseHub(limits, logged().log);
    const [a, b, c, d] = [new FakeResponse(), new FakeResponse(), new FakeResponse(), new FakeResponse()];
    expect([hub.open(asRes(a)), hub.open(asRes(b)), hub.open(asRes(c))]).toEqual([true, true, false]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 503]);
    expect(c.headers['Retry-After']).toBe('10');
    expect(c.body).toBe('too many event streams: 2 open (serve option maxClients); retry after 10 s\n');
    expect(c.ended).toBe(true);
    hub.send('x', 1);
    expect(c.written).toBe(0);
    a.end();
    expect(hub.open(asRes(d))).toBe(true);
    expect(hub.stats()).toEqual({ open: 2, rejected: 1, dropped: 0, bufferedBytes: 0 });
    hub.closeAll();
  });

  it('drops a client that does not read once it holds more than maxBufferedBytes: destroyed, counted, logged at warn once', () => {
    const { lines, log } = logged();
    const hub = new SseHub({ ...limits, maxBufferedBytes: 95_000 }, log);
    const slow = new FakeResponse(1_000);
    const other = new FakeResponse(1_000);
    const reader = new FakeResponse();
    for (const res of [slow, reader]) hub.open(asRes(res));
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 9; i++) hub.send('big', big);
    expect(hub.stats()).toMatchObject({ open: 2, dropped: 0 });
    expect(hub.stats().bufferedBytes).toBeGreaterThan(80_000);
    hub.send('big', big); // over 95 000 bytes unsent
    expect(slow.destroyed).toBe(true);
    expect(hub.stats()).toEqual({ open: 1, rejected: 0, dropped: 1, bufferedBytes: 0 });
    const written = slow.written;
    hub.send('big', big);
    expect(slow.written).toBe(written);
    expect(reader.destroyed).toBe(false);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/^event stream dropped: the client does not read \(\d+ bytes unsent, over maxBufferedBytes \(95000\)\)/) })]);
    // A second drop is counted, and logged at debug.
    hub.open(asRes(other));
    for (let i = 0; i < 11; i++) hub.send('big', big);
    expect(other.destroyed).toBe(true);
    expect(hub.stats().dropped).toBe(2);
    expect(lines.map((l) => l.level)).toEqual([40, 20]);
    expect(vi.getTimerCount()).toBe(0);
    hub.closeAll();
  });

  it('drops a client whose socket stays full past drainTimeoutMs, and keeps one that drains in time', () => {
    const { lines, log } = logged();
    const hub = new SseHub({ ...limits, maxBufferedBytes: 10_000_000 }, log);
    const stuck = new FakeResponse(100);
    const slowButReading = new FakeResponse(100);
    hub.open(asRes(stuck));
    hub.open(asRes(slowButReading));
    hub.send('big', 'y'.repeat(20_000)); // both full
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(999);
    slowButReading.drain();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1);
    expect([stuck.destroyed, slowButReading.destroyed]).toEqual([true, false]);
    expect(lines[0]?.msg).toMatch(/not drained within drainTimeoutMs \(1000 ms\)/);
    vi.advanceTimersByTime(10_000);
    expect(slowButReading.destroyed).toBe(false);
    expect(hub.stats()).toMatchObject({ open: 1, dropped: 1 });
    hub.closeAll();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears a stream’s drain timer when the client goes away', () => {
    const hub = new SseHub(limits, logged().log);
    const res = new FakeResponse(0);
    hub.open(asRes(res));
    hub.send('big', 'z'.repeat(20_000));
    expect(vi.getTimerCount()).toBe(1);
    res.emit('close');
    expect(vi.getTimerCount()).toBe(0);
    expect(hub.stats()).toMatchObject({ open: 0, dropped: 0 });
  });
});

describe('DashboardFeed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does no work while no stream is open: no snapshots, no health checks, no frames; and stops as soon as the last stream closes', () => {
    const p = stubPipeline('quiet', ['s']);
    const health = createHealthMonitor({ pipelines: [p], intervalMs: 60_000 });
    const checks = vi.spyOn(health, 'check');
    // As serve() wires them: the last stream closing stops the feed.
    const hub: SseHub = new SseHub(limits, logged().log, () => feed.streamsClosed());
    const sends = vi.spyOn(hub, 'send');
    const feed = new DashboardFeed([p], hub, health, 100, Date.now);
    const timers = vi.getTimerCount(); // the monitor's own
    p.observers.emit({ type: 'steadfast.breaker.transition', breaker: 'quiet.s', state: 'open' });
    vi.advanceTimersByTime(1_000);
    expect([checks.mock.calls.length, sends.mock.calls.length, vi.getTimerCount()]).toEqual([0, 0, timers]);

    const res = new FakeResponse();
    hub.open(asRes(res), (send) => feed.streamOpened(send));
    expect(checks).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(300);
    expect(checks).toHaveBeenCalledTimes(4);
    p.observers.emit({ type: 'steadfast.breaker.transition', breaker: 'quiet.s', state: 'closed' });
    expect(sends.mock.calls.map(([event]) => event)).toEqual(['snapshot', 'snapshot', 'snapshot', 'observation']);

    res.emit('close');
    expect(feed.active).toBe(false);
    expect(vi.getTimerCount()).toBe(timers);
    vi.advanceTimersByTime(1_000);
    p.observers.emit({ type: 'steadfast.breaker.transition', breaker: 'quiet.s', state: 'open' });
    expect([checks.mock.calls.length, sends.mock.calls.length]).toEqual([4, 4]);
    feed.close();
    health.stop();
  });
});
