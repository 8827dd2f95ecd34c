/** Ends the process with `code`: the only way steadfast ends a process, for the CLI and for `supervision.exitOnEscalate`. */
export function exitProcess(code: number): void {
  process.exit(code);
}
