import type { Logger } from 'pino';
import { messageOf, type StageCallError, type SteadfastError } from '../core/errors.js';
import type { DeadLetterBox } from '../checkpoint/dead-letters.js';

/**
 * The failures of a run that do not stop it: counted, dead letters recorded, then handed to the
 * program's `onError` (or logged without one). A hook that throws or rejects is logged, never
 * let through to the host process.
 */
export class ErrorReports {
  count = 0;
  /** Where dead letters are recorded (set once the run is assembled). */
  letters: Pick<DeadLetterBox, 'record'> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly onError: ((error: SteadfastError) => void) | undefined,
  ) {}

  report(error: SteadfastError, log: Logger = this.log): void {
    this.count++;
    if (error.code === 'DEAD_LETTER') this.letters?.record(error as StageCallError);
    if (this.onError === undefined) {
      log.error({ err: error }, error.message);
      return;
    }
    const hookFailed = (hookError: unknown) => log.error({ err: hookError, reported: error.message }, `onError threw: ${messageOf(hookError)}`);
    try {
      const returned: unknown = this.onError(error);
      // An async hook that rejects must not become an unhandled rejection of the host process.
      if (returned instanceof Promise) returned.catch(hookFailed);
    } catch (hookError) {
      hookFailed(hookError);
    }
  }
}
