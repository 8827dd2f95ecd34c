/** Call-time percentiles of a window, in ms. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The durations of the last `capacity` calls with their times, in two fixed ring buffers (no
 * allocation per call); percentiles are computed over those within the time window.
 */
export class LatencyWindow {
  private readonly at: Float64Array;
  private readonly ms: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private size = 0;

  constructor(private readonly capacity = 2048) {
    this.at = new Float64Array(capacity);
    this.ms = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  add(at: number, ms: number): void {
    this.at[this.next] = at;
    this.ms[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Nearest-rank p50, p95 and p99 of the calls at or after `since`; null when there are none. */
  percentiles(since: number): Percentiles | null {
    let n = 0;
    for (let i = 0; i < this.size; i++) if ((this.at[i] as number) >= since) this.scratch[n++] = this.ms[i] as number;
    if (n === 0) return null;
    const sorted = this.scratch.subarray(0, n).sort();
    return { p50: rank(sorted, 0.5), p95: rank(sorted, 0.95), p99: rank(sorted, 0.99) };
  }
}

/** Nearest-rank percentile of sorted values: the smallest value with at least `p` of the values at or below it. */
export function rank(sorted: ArrayLike<number>, p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] as number;
}
