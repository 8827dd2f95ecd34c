// How long `steadfast run` waits for a module to give its pipeline: a module whose export (or
// factory) is a promise that never settles must end the command with one line, not hang or exit 13.
import type { LoadProblem } from './load-pipeline.js';
import { setTimer, systemClock, type CancelTimer } from '../core/clock.js';

/** Default budget for importing the module and getting the pipeline from it. */
export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;

/** What bounds a load. */
export interface LoadGuard {
  /** 0: no limit. */
  timeoutMs: number;
  /**
   * Calls `handler` when the process has nothing left to do (Node's `beforeExit`): a load still
   * pending then waits for a promise nothing can settle. Returns the function that stops it.
   */
  onIdle?(handler: () => void): () => void;
}

/**
 * `loading`, or a problem when it takes longer than `guard.timeoutMs`, or when the process runs
 * out of work while it is pending. Leaves no timer or listener behind.
 */
export async function guardLoad<T>(loading: Promise<T | LoadProblem>, module: string, guard: LoadGuard): Promise<T | LoadProblem> {
  let cancel: CancelTimer | undefined;
  let stopIdle: (() => void) | undefined;
  const stalled = new Promise<LoadProblem>((resolve) => {
    if (guard.timeoutMs > 0) {
      // Unref'd: it must not keep alive a process that has nothing else to do (onIdle tells that).
      cancel = setTimer(
        systemClock,
        guard.timeoutMs,
        () => resolve({ problem: `module "${module}" gave no pipeline within ${guard.timeoutMs} ms: its import, its factory or the promise it exports is still pending (raise the limit with --load-timeout <ms> or STEADFAST_LOAD_TIMEOUT_MS; 0 waits for ever)` }),
        { unref: true },
      );
    }
    stopIdle = guard.onIdle?.(() => resolve({ problem: `module "${module}" gives no pipeline: it waits for a promise that nothing is left to settle` }));
  });
  try {
    return await Promise.race([loading, stalled]);
  } finally {
    cancel?.();
    stopIdle?.();
  }
}
