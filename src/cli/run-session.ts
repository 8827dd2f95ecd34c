// One `steadfast run`: serve (with --http), start, show the status, stop on a signal, and say how
// it ended, as an exit code and at most one error line.
import { messageOf } from '../core/errors.js';
import { serve, type ObservabilityServer } from '../observability/server.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { writeError } from './error-line.js';
import type { HostPort } from './host-port.js';
import { EXIT, type CliIo } from './main.js';
import type { RunHost } from './run-host.js';
import { StatusReporter } from './status-reporter.js';

/** Exit code after a second signal: the shell's code for a program interrupted by SIGINT (128 + 2), for SIGTERM too. */
export const FORCED_EXIT = 130;

/** How a run is shown and served. */
export interface SessionOptions {
  http: HostPort | undefined;
  /** Serve `/metrics` with `--http`. */
  metrics: boolean;
  /** Period of the plain status lines; 0 = the final line only. */
  intervalMs: number;
  verbose: boolean;
  /** Given the function that clears the live status line, for the log formatter to call before a line. */
  statusClearer?: (clear: () => void) => void;
}

/** Runs `pipeline` until it ends or a signal stops it; resolves with the exit code, never throws. */
export async function runSession(pipeline: Pipeline, io: CliIo, host: RunHost, options: SessionOptions): Promise<number> {
  if (pipeline.status === 'stopped' || pipeline.status === 'failed') {
    writeError(io, `pipeline "${pipeline.name}" has already ${pipeline.status === 'failed' ? 'failed' : 'stopped'}; a pipeline runs once: export it unstarted, or a function making one`);
    return EXIT.failure;
  }
  let server: ObservabilityServer | undefined;
  if (options.http !== undefined) {
    try {
      server = await serve({ pipelines: [pipeline], host: options.http.host, port: options.http.port, ...(options.metrics ? {} : { metrics: false }) });
    } catch (error) {
      return report(io, `--http: ${firstLine(error)}`, error, options.verbose);
    }
    io.stdout.write(`serving ${server.url} (dashboard /, /health, /tree, /inspect${options.metrics ? ', /metrics' : ''})\n`);
  }
  const stdout = io.stdout as CliIo['stdout'] & { isTTY?: boolean; columns?: number };
  const reporter = new StatusReporter(() => pipeline.stats(), io.stdout, { tty: stdout.isTTY === true, columns: stdout.columns, intervalMs: options.intervalMs });
  options.statusClearer?.(() => reporter.clear());
  let signals = 0;
  const restoreSignals = host.onSignal((signal) => {
    signals++;
    reporter.clear();
    if (signals === 1) {
      writeError(io, `${signal}: stopping "${pipeline.name}" (draining, final checkpoint); send it again to exit at once`);
      pipeline.stop().catch(() => {}); // a failed stop fails `done`: reported below
      return;
    }
    writeError(io, `${signal} again: exiting at once, without finishing the stop (exit ${FORCED_EXIT})`);
    host.exit(FORCED_EXIT);
  });
  let failure: { line: string; error: unknown } | undefined;
  try {
    if (pipeline.status === 'created') await pipeline.start();
    reporter.start();
    await pipeline.done;
  } catch (error) {
    failure = { line: `pipeline "${pipeline.name}" failed: ${firstLine(error)}`, error };
  }
  reporter.stop();
  await server?.close();
  restoreSignals();
  const code = failure === undefined ? EXIT.ok : report(io, failure.line, failure.error, options.verbose);
  host.release(code);
  return code;
}

/** Writes one error line (with `verbose`, the stacks of the error and its causes) and returns exit code 1. */
export function report(io: CliIo, line: string, error: unknown, verbose: boolean): number {
  writeError(io, line);
  if (verbose) {
    let cause: unknown = error;
    for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
      io.stderr.write(`${depth === 0 ? '' : 'Caused by: '}${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  }
  return EXIT.failure;
}

function firstLine(error: unknown): string {
  return messageOf(error).split('\n')[0] ?? '';
}
