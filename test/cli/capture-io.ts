import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/main.js';

/** What one in-process CLI run wrote, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** An io that keeps what the CLI writes. */
export function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) } };
}

/** Runs `main(argv)` in this process with a captured io. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}
