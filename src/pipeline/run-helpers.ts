// Small helpers of a pipeline run: a deferred signal, dead letters read after the run, the error a
// failed start reports.
import type { Logger } from 'pino';
import { createCheckpointStore } from '../checkpoint/create-store.js';
import { DeadLetterBox } from '../checkpoint/dead-letters.js';
import type { StoredDeadLetter } from '../checkpoint/types.js';
import type { Clock } from '../core/clock.js';
import { SteadfastError, isSteadfastError, messageOf } from '../core/errors.js';

/** A promise and the function that resolves it. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The dead letters of `pipeline` in the LevelDB store at `dir`, through a read-only store opened for the purpose. */
export async function readDeadLetters(dir: string, pipeline: string, log: Logger, clock: Clock): Promise<StoredDeadLetter[]> {
  const store = createCheckpointStore({ dir, readOnly: true });
  try {
    return await new DeadLetterBox(store, pipeline, log, clock, true).list();
  } finally {
    await store.close();
  }
}

/** The error a failed start reports: a stage's own open failure rather than the supervisor's wrapper. */
export function startError(error: unknown): SteadfastError {
  if (isSteadfastError(error, 'CHILD_START_FAILED') && isSteadfastError(error.cause)) return error.cause;
  if (isSteadfastError(error)) return error;
  return new SteadfastError('STAGE_OPEN_FAILED', `pipeline failed to start: ${messageOf(error)}`, { cause: error });
}
