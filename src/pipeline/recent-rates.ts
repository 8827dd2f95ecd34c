// The recent rates of one pipeline: a sliding window per node instance and one for the source.
//
// Sampled when the stats are read, not on a timer and not per event: the counters already exist
// (the call ledger's `eventsIn`, the pump's `events`), so a read costs a few additions per node and
// the event path does no extra work; no timer has to be owned, unref'd and cancelled with the run
// (nor be advanced by tests on a simulated clock); and whoever shows a rate reads the stats on their
// own period anyway (the status line every 0.5 s, the dashboard on each push, a Prometheus scrape).
// The cost of that choice: a window only knows the moments it was read, so when reads are further
// apart than the window, the "recent" rate is the rate since the previous read (see RateWindow).
import { RECENT_WINDOW_MS, RateWindow } from '../core/rate-window.js';

/** The recent rates (events per second) of one read of the stats. */
export interface RecentRateSample {
  source: number;
  /** By node instance name. */
  nodes: Map<string, number>;
}

/** Sliding windows over a run's running totals, keyed by node instance name, with one for the source. */
export class RecentRates {
  private readonly nodes = new Map<string, RateWindow>();
  private readonly source: RateWindow;
  private lastRead: number | undefined;

  constructor(readonly windowMs: number = RECENT_WINDOW_MS) {
    this.source = new RateWindow(windowMs);
  }

  /**
   * Records the running totals read at `at` (epoch ms) in a run started at `startedAt` (the source's
   * events read, each node instance's events processed) and returns the recent rates. A window's
   * first sample is a 0 at the previous read (or the start): a node that is new since then (a replica
   * added by `scale()`) had processed nothing then. Windows of nodes no longer given are dropped.
   */
  sample(startedAt: number, at: number, source: number, nodes: Iterable<readonly [string, number]>): RecentRateSample {
    const seedAt = this.lastRead !== undefined && this.lastRead >= startedAt && this.lastRead <= at ? this.lastRead : startedAt;
    const rates: RecentRateSample = { source: sampled(this.source, startedAt, at, source), nodes: new Map() };
    for (const [name, count] of nodes) {
      let window = this.nodes.get(name);
      if (window === undefined) {
        window = new RateWindow(this.windowMs);
        this.nodes.set(name, window);
      }
      rates.nodes.set(name, sampled(window, seedAt, at, count));
    }
    for (const name of this.nodes.keys()) if (!rates.nodes.has(name)) this.nodes.delete(name);
    this.lastRead = at;
    return rates;
  }
}

function sampled(window: RateWindow, seedAt: number, at: number, count: number): number {
  if (window.size === 0 && seedAt <= at) window.record(seedAt, 0);
  return window.record(at, count);
}
