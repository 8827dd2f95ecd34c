import { raceDeadline, systemClock, type TimerSource } from '../core/clock.js';
import type { Child } from './child.js';

/** How a child ended when its supervisor stopped it. */
export type ShutdownOutcome = 'stopped' | 'killed' | 'failed';

/**
 * Stops a child within its budget, as OTP's shutdown: `'brutal'` kills at once; otherwise a polite
 * `stop()`, and a kill when it has not finished after `budgetMs` on `clock` (or when it throws).
 * Never rejects.
 */
export async function shutdownChild(child: Child, budget: number | 'brutal', clock: TimerSource = systemClock): Promise<ShutdownOutcome> {
  if (budget === 'brutal') {
    killQuietly(child);
    return 'killed';
  }
  let stopping: Promise<void>;
  try {
    stopping = Promise.resolve(child.stop());
  } catch {
    stopping = Promise.reject(new Error('stop() threw'));
  }
  stopping.catch(() => {}); // a stop that settles after the kill must not be an unhandled rejection
  try {
    const raced = await raceDeadline(stopping, budgetMsOf(budget), clock);
    if (raced.done) return 'stopped';
    killQuietly(child);
    return 'killed';
  } catch {
    killQuietly(child);
    return 'failed';
  }
}

function budgetMsOf(budget: number): number {
  return Number.isFinite(budget) ? budget : 2 ** 31 - 1;
}

function killQuietly(child: Child): void {
  try {
    child.kill();
  } catch {
    // a child whose kill throws is gone as far as its supervisor is concerned
  }
}
