// The arithmetic of the soak (bench/soak.ts): least-squares slopes over memory samples, and the
// comparison of active-resource counts between samples.

/** One reading of the soak process, taken every sample period. */
export interface SoakSample {
  /** Seconds since the pipeline started. */
  t: number;
  /** `process.memoryUsage().heapUsed` right after a full GC (bytes). */
  heapUsed: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** Events the source had handed to the pipeline so far. */
  events: number;
  /** Bytes of the LevelDB directory (files only). */
  storeBytes: number;
  /** `process.getActiveResourcesInfo()` counted by type. */
  resources: Record<string, number>;
  /** Live timers, ref'd or not (bench/soak-timers.ts). */
  timers: number;
}

/** The least-squares line through (x, y): slope in y units per x unit; NaN with fewer than two distinct x. */
export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxy += dx * ((ys[i] as number) - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/** Slope of one field over the samples, in bytes per minute. */
export function slopePerMinute(samples: readonly SoakSample[], field: 'heapUsed' | 'rss' | 'external' | 'storeBytes'): number {
  return leastSquaresSlope(
    samples.map((s) => s.t / 60),
    samples.map((s) => s[field]),
  );
}

/**
 * Entries of `getActiveResourcesInfo()` that come and go by nature: a queued `setImmediate` (the
 * source pump yields to the event loop with one) and I/O requests in flight (`FSReqCallback`,
 * `WriteWrap`, …). Handles (sockets, servers, pipes, watchers) and ref'd timers (`Timeout`) are
 * the ones that must stay constant.
 */
export function isTransientResource(type: string): boolean {
  return type === 'Immediate' || /Req|^WriteWrap$|^ShutdownWrap$|^ConnectWrap$|^TCPConnectWrap$/.test(type);
}

/** Persistent resource types (see {@link isTransientResource}) whose count differs between samples, with the counts seen (empty: constant). */
export function varyingResources(samples: readonly SoakSample[]): Record<string, number[]> {
  const types = new Set(samples.flatMap((s) => Object.keys(s.resources)).filter((type) => !isTransientResource(type)));
  const varying: Record<string, number[]> = {};
  for (const type of [...types].sort()) {
    const counts = samples.map((s) => s.resources[type] ?? 0);
    if (new Set(counts).size > 1) varying[type] = [...new Set(counts)].sort((a, b) => a - b);
  }
  return varying;
}

/** Counts of `now` above `baseline`, by type (what is left over). */
export function resourcesAbove(baseline: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const above: Record<string, number> = {};
  for (const [type, count] of Object.entries(now)) if (count > (baseline[type] ?? 0)) above[type] = count - (baseline[type] ?? 0);
  return above;
}

/** `process.getActiveResourcesInfo()` counted by type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}
