import type { Escalation } from '../../supervisors/supervisor.machine.js';
import { SteadfastError, isSteadfastError, messageOf } from '../core/errors.js';

/** The error a failed supervisor reports: to its parent as its exit, or from `start()`. */
export function escalationError(escalation: Escalation | undefined, supervisor: string): SteadfastError {
  if (escalation === undefined) return new SteadfastError('SUPERVISOR_STATE_INVALID', `supervisor "${supervisor}" failed`);
  if (escalation.reason === 'start_failed') {
    return isSteadfastError(escalation.error)
      ? escalation.error
      : new SteadfastError('CHILD_START_FAILED', `supervisor "${supervisor}" failed to start: ${messageOf(escalation.error)}`, { cause: escalation.error });
  }
  if (escalation.reason === 'flapping') {
    return new SteadfastError(
      'FLAPPING_DETECTED',
      `supervisor "${supervisor}" gave up: children flapping (${escalation.pattern ?? 'pattern'}), last failure of "${escalation.offender}": ${messageOf(escalation.error)}`,
      { cause: escalation.error },
    );
  }
  return new SteadfastError(
    'RESTART_INTENSITY_EXCEEDED',
    `supervisor "${supervisor}" gave up: more than its restart intensity (${escalation.restarts - 1} restarts in the window), last failure of "${escalation.offender}": ${messageOf(escalation.error)}`,
    { cause: escalation.error },
  );
}
