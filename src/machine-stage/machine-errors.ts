import { SteadfastError } from '../core/errors.js';

/** An actor tree could not be persisted: a child given as inline logic, or a delayed event aimed outside the tree; `path` names the actor. */
export class MachinePersistError extends SteadfastError {
  /** The actor at fault, as `root/<id>/<id>`. */
  readonly path: string;

  constructor(path: string, message: string) {
    super('MACHINE_NOT_PERSISTABLE', message);
    this.path = path;
  }
}

/** A persisted actor tree could not be restored into this machine: bad format, or a child whose logic the machine no longer has. */
export class MachineRestoreError extends SteadfastError {
  /** The actor at fault, as `root/<id>/<id>` (`root` for the tree as a whole). */
  readonly path: string;

  constructor(path: string, message: string, cause?: unknown) {
    super('MACHINE_RESTORE_FAILED', message, { cause });
    this.path = path;
  }
}
