/** Weight of the newest sample in the per-event latency average. */
export const LATENCY_EMA_ALPHA = 0.2;

/**
 * Folds one batch's duration into the exponential moving average of time per event.
 * The first sample (`previous` NaN) is taken as is.
 */
export function updatePerEventMs(previous: number, batchMs: number, batchSize: number): number {
  if (!(batchSize > 0) || !Number.isFinite(batchSize) || !Number.isFinite(batchMs) || batchMs < 0) return previous;
  const sample = batchMs / batchSize;
  if (Number.isNaN(previous)) return sample;
  return LATENCY_EMA_ALPHA * sample + (1 - LATENCY_EMA_ALPHA) * previous;
}

/**
 * How many events the next call may take so that it lasts about `targetBatchMs`: between 1 and
 * `maxBatch`. Before anything is measured (`perEventMs` NaN) the answer is 1: a probe, so that a
 * slow stage never starts with a `maxBatch`-sized call. A measured 0 (too fast for the clock)
 * allows `maxBatch`.
 */
export function nextBatchSize(perEventMs: number, targetBatchMs: number, maxBatch: number): number {
  if (Number.isNaN(perEventMs)) return 1;
  if (!(perEventMs > 0)) return maxBatch;
  const fit = Math.floor(targetBatchMs / perEventMs);
  if (fit < 1) return 1;
  return fit < maxBatch ? fit : maxBatch;
}
