// A recent rate from a running total read now and then: a sliding window over its last samples.
import { ConfigError } from './errors.js';

interface Sample {
  at: number;
  count: number;
}

/** How long a {@link RateWindow} looks back by default (ms). */
export const RECENT_WINDOW_MS = 10_000;

/** Samples a window keeps at most (besides its base): the finer, the closer its span stays to `windowMs`. */
const SLOTS = 20;

/**
 * The rate per second of a running total (events processed so far) over the last `windowMs`,
 * from samples `(at, count)` recorded whenever the total is read. The rate is measured from the
 * newest sample back to the newest one at least `windowMs` old (the base), so it covers the last
 * `windowMs` to `windowMs + windowMs / 20` when read often, and the time since the previous read
 * when reads are further apart than the window. Samples closer together than `windowMs / 20` are
 * merged, so a window holds at most ~22 of them however often it is read. A total that goes down
 * (a new counter under the same name) or a time that goes back starts the window afresh.
 *
 * @example
 * const window = new RateWindow(10_000);
 * window.record(0, 0);
 * window.record(10_000, 140); // → 14 (per second)
 */
export class RateWindow {
  private readonly samples: Sample[] = [];
  private readonly spacing: number;

  constructor(readonly windowMs: number = RECENT_WINDOW_MS) {
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new ConfigError('RateWindow.windowMs', windowMs, 'must be a positive number of milliseconds');
    this.spacing = windowMs / SLOTS;
  }

  /** Samples held now (for tests of the bound). */
  get size(): number {
    return this.samples.length;
  }

  /** Records the running total `count` at `at` (ms) and returns the rate per second over the window (0 with less than a millisecond of history). */
  record(at: number, count: number): number {
    const samples = this.samples;
    let newest = samples.at(-1);
    if (newest !== undefined && (at < newest.at || count < newest.count)) {
      samples.length = 0;
      newest = undefined;
    }
    const before = samples.at(-2);
    if (newest !== undefined && before !== undefined && newest.at - before.at < this.spacing) {
      newest.at = at;
      newest.count = count;
    } else {
      samples.push({ at, count });
    }
    // Keep the newest sample at least `windowMs` old as the base; drop the ones before it.
    while (samples.length > 2 && (samples[1] as Sample).at <= at - this.windowMs) samples.shift();
    return this.rate();
  }

  /** The rate per second between the base and the newest sample, without recording (0 with less than a millisecond between them). */
  rate(): number {
    const base = this.samples[0];
    const newest = this.samples.at(-1);
    if (base === undefined || newest === undefined) return 0;
    const span = newest.at - base.at;
    return span < 1 ? 0 : ((newest.count - base.count) * 1000) / span;
  }
}
