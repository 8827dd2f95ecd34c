import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fitLine, statusLine } from '../../src/cli/status-line.js';
import { StatusReporter, TTY_REFRESH_MS } from '../../src/cli/status-reporter.js';
import type { PipelineStats } from '../../src/index.js';
import { stageStatsOf, stubPipeline } from '../observability/stub-pipeline.js';

function statsOf(changes: Partial<PipelineStats> = {}): PipelineStats {
  const base = stubPipeline('orders', ['parse', 'enrich']).stats();
  return { ...base, stages: { parse: stageStatsOf('parse'), enrich: stageStatsOf('enrich', { status: 'busy' }) }, ...changes };
}

describe('statusLine', () => {
  it('shows status, events read, the read rate beside the sink’s rate, each stage’s state and the restarts', () => {
    const stats = statsOf({ source: { name: 's', status: 'reading', events: 1234, lastOffset: 1233, errors: 0 } });
    stats.supervision = { ...stats.supervision, restarts: 2 };
    expect(statusLine(stats, { read: 1210.46, done: 14 }, 0)).toBe('orders running | 1234 events | read 1,210/s · done 14.0/s | parse idle, enrich busy | restarts 2');
    expect(statusLine(stats, { read: 12.34, done: 0 }, 0)).toContain('| read 12.3/s · done 0/s |');
    expect(statusLine(stats, { read: Number.NaN, done: 1_234_567.8 }, 0)).toContain('| read 0/s · done 1,234,568/s |');
  });

  it('adds errors when there are some, and the last checkpoint with the option', () => {
    const checkpoint = { last: null, inFlight: null, completed: 0, failed: 0, corrupt: 0, restored: null, lastMs: null, lastBytes: null } as unknown as NonNullable<PipelineStats['checkpoint']>;
    expect(statusLine(statsOf({ errors: 3, checkpoint }), { read: 1, done: 1 }, 0)).toMatch(/\| errors 3 \| checkpoint none yet$/);
    const last = { ...checkpoint, last: { version: 7, offset: 999, at: 10_000 } };
    expect(statusLine(statsOf({ checkpoint: last }), { read: 1, done: 1 }, 12_400)).toMatch(/\| checkpoint 7 at offset 999, 2s ago$/);
    expect(statusLine(statsOf({ checkpoint: last }), { read: 1, done: 1 }, 10_000 + 185_000)).toMatch(/3m ago$/);
    expect(statusLine(statsOf({ checkpoint: last }), { read: 1, done: 1 }, 10_000 + 7_300_000)).toMatch(/2h ago$/);
  });

  it('fits a line in a terminal, never reaching its last column', () => {
    expect(fitLine('abcdef', 10)).toBe('abcdef');
    expect(fitLine('abcdefghij', 10)).toBe('abcdefgh…');
    expect(fitLine('abcdefghij', undefined)).toBe('abcdefghij');
  });
});

describe('StatusReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 2, 3, 4, 5) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function reporterOn(tty: boolean, intervalMs = 1_000, columns?: number) {
    let events = 0;
    let recent = { windowMs: 10_000, sourcePerSecond: 0, sinkPerSecond: 0 };
    const written: string[] = [];
    const stats = () => statsOf({ source: { name: 's', status: 'reading', events, lastOffset: null, errors: 0 }, eventsPerSecond: 4, sinkPerSecond: 2.5, recent });
    const reporter = new StatusReporter(stats, { write: (text: string) => written.push(text) }, { tty, columns, intervalMs });
    return {
      reporter,
      written,
      add: (n: number, read: number, done: number) => {
        events += n;
        recent = { ...recent, sourcePerSecond: read, sinkPerSecond: done };
      },
    };
  }

  it('writes a plain timestamped line every interval with the recent rates, and a final line with the run’s averages', () => {
    const { reporter, written, add } = reporterOn(false, 1_000);
    reporter.start();
    expect(written).toEqual([]);
    add(50, 1_200, 14);
    vi.advanceTimersByTime(1_000);
    add(30, 30, 0);
    vi.advanceTimersByTime(1_000);
    reporter.stop();
    expect(written).toEqual([
      '2025-01-02T03:04:06.000Z orders running | 50 events | read 1,200/s · done 14.0/s | parse idle, enrich busy | restarts 0\n',
      '2025-01-02T03:04:07.000Z orders running | 80 events | read 30.0/s · done 0/s | parse idle, enrich busy | restarts 0\n',
      '2025-01-02T03:04:07.000Z orders running | 80 events | read 4.0/s · done 2.5/s | parse idle, enrich busy | restarts 0\n',
    ]);
    vi.advanceTimersByTime(10_000);
    expect(written).toHaveLength(3);
  });

  it('redraws one line in place on a terminal, cut to its width, and ends it with the final status', () => {
    const { reporter, written } = reporterOn(true, 5_000, 40);
    reporter.start();
    vi.advanceTimersByTime(TTY_REFRESH_MS * 2);
    expect(written).toHaveLength(3);
    for (const text of written) {
      expect(text.startsWith('\r\x1b[2K')).toBe(true);
      expect(text).not.toContain('\n');
      expect(text.length - 5).toBeLessThan(40);
    }
    reporter.clear();
    expect(written.at(-1)).toBe('\r\x1b[2K');
    reporter.clear(); // nothing drawn: nothing to clear
    expect(written).toHaveLength(4);
    reporter.stop();
    expect(written.at(-1)).toBe('\r\x1b[2Korders running | 0 events | read 4.0/s · done 2.5/s | parse idle, enrich busy | restarts 0\n');
  });

  it('writes only the final line with interval 0', () => {
    const { reporter, written } = reporterOn(true, 0);
    reporter.start();
    vi.advanceTimersByTime(10_000);
    reporter.stop();
    expect(written).toHaveLength(1);
  });
});
