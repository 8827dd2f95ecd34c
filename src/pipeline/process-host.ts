/**
 * What a pipeline may do to its process, given by whoever owns the process: the package entry
 * gives the CLI's `exitProcess`, so that `supervision.exitOnEscalate` can end the process; the
 * runtime itself never touches it.
 */
export interface ProcessHost {
  /** Ends the process with `code`. */
  exit?(code: number): void;
}
