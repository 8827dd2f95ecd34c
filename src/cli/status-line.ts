// The one-line status of `steadfast run`: what the pipeline is doing, from its stats.
import type { PipelineStats } from '../pipeline/stats.js';

/** The two rates of a status line, in events per second. */
export interface StatusRates {
  /** Events read from the source. */
  read: number;
  /** Events delivered to the sink(s): work done end to end. */
  done: number;
}

/**
 * `orders running | 1234 events | read 1,210/s · done 14.0/s | parse idle, enrich busy, sink idle |
 * restarts 0 | checkpoint 3 at offset 1199, 2s ago`: status, events read, the source's read rate
 * and the sink's rate, each stage instance's state, restarts, errors (when any), and the last
 * completed checkpoint (with the option).
 */
export function statusLine(stats: PipelineStats, rates: StatusRates, now: number): string {
  const parts = [
    `${stats.pipeline} ${stats.status}`,
    `${stats.source.events} events`,
    `read ${rate(rates.read)}/s · done ${rate(rates.done)}/s`,
    Object.values(stats.stages)
      .map((stage) => `${stage.name} ${stage.status}`)
      .join(', '),
    `restarts ${stats.supervision.restarts}`,
  ];
  if (stats.errors > 0) parts.push(`errors ${stats.errors}`);
  if (stats.checkpoint !== undefined) {
    const last = stats.checkpoint.last;
    parts.push(last === null ? 'checkpoint none yet' : `checkpoint ${last.version} at offset ${last.offset}, ${age(now - last.at)}`);
  }
  return parts.join(' | ');
}

/** Fits a line in a terminal of `columns` (leaving the last column free, so that it never wraps). */
export function fitLine(line: string, columns: number | undefined): string {
  if (columns === undefined || columns < 2 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

function rate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1);
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}
