import type { Child } from './child.js';

/** How a child ended when its supervisor stopped it. */
export type ShutdownOutcome = 'stopped' | 'killed' | 'failed';

/**
 * Stops a child within its budget, as OTP's shutdown: `'brutal'` kills at once; otherwise a polite
 * `stop()`, and a kill when it has not finished after `budgetMs` (or when it throws). Never rejects.
 */
export async function shutdownChild(child: Child, budget: number | 'brutal'): Promise<ShutdownOutcome> {
  if (budget === 'brutal') {
    killQuietly(child);
    return 'killed';
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), budgetMsOf(budget));
  });
  let stopping: Promise<'done'>;
  try {
    stopping = Promise.resolve(child.stop()).then(() => 'done' as const);
  } catch {
    stopping = Promise.reject(new Error('stop() threw'));
  }
  try {
    const first = await Promise.race([stopping, expired]);
    if (first === 'done') return 'stopped';
    killQuietly(child);
    return 'killed';
  } catch {
    killQuietly(child);
    return 'failed';
  } finally {
    clearTimeout(timer);
    stopping.catch(() => {}); // a stop that settles after the kill must not be an unhandled rejection
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
