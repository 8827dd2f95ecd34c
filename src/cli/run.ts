import { messageOf } from '../core/errors.js';
import { integerOption, parseArgs } from './args.js';
import { parseHostPort, type HostPort } from './host-port.js';
import { writeError } from './error-line.js';
import { DEFAULT_LOAD_TIMEOUT_MS, guardLoad, type LoadGuard } from './load-guard.js';
import { loadPipeline } from './load-pipeline.js';
import { EXIT, type CliIo } from './main.js';
import { setLogDestination } from '../logging/logger.js';
import { prettyDestination } from './pretty-log.js';
import { MAX_TIMER_MS, readRunEnv, type RunEnv } from './run-env.js';
import { processHost, type RunHost } from './run-host.js';
import { FORCED_EXIT, report, runSession } from './run-session.js';

const USAGE = `Usage: steadfast run <module> [--http host:port] [--interval ms] [--load-timeout ms] [--verbose]

Runs the pipeline a module exports: its default export, or the export named \`pipeline\`; a
pipeline, or a function (or promise) giving one. A .js or .mjs module always; a .ts module when
the CLI runs under tsx (\`node --import tsx <steadfast bin> run app.ts\`).

On a terminal a live status line is redrawn in place; otherwise a plain status line is written
every interval. SIGINT or SIGTERM stops the pipeline gracefully (the source stops, in-flight
events drain, the final checkpoint is written, the store closes), then the command exits 0; a
second signal exits at once with code ${FORCED_EXIT}.

Options:
  --http <host:port>  serve /, /health, /tree, /inspect and /metrics while running
                      (e.g. 127.0.0.1:9464; port 0 picks a free one; default STEADFAST_HTTP)
  --interval <ms>     period of the plain status lines (default 5000, or
                      STEADFAST_STATUS_INTERVAL_MS; 0 = the final line only)
  --load-timeout <ms> how long the module may take to give its pipeline (default
                      30000, or STEADFAST_LOAD_TIMEOUT_MS; 0 = no limit)
  --verbose           show stacks with errors
  -h, --help          show this help

Logs (pino) go to stderr: human-readable on a terminal, JSON lines otherwise
(STEADFAST_LOG_FORMAT=pretty|json|auto).

Environment: STEADFAST_MODE (throughput|standard|debug), STEADFAST_LOG_LEVEL,
STEADFAST_LOG_FORMAT, STEADFAST_METRICS (on|off), STEADFAST_HTTP, STEADFAST_STATUS_INTERVAL_MS,
STEADFAST_LOAD_TIMEOUT_MS, STEADFAST_BREAKER_THRESHOLD, STEADFAST_BREAKER_TIMEOUT_MS
(see docs/cli.md).

Exit codes: 0 stopped or finished, 1 runtime failure, 2 usage or configuration error,
${FORCED_EXIT} forced exit after a second signal.
`;

const SPEC = { flags: ['verbose'], values: ['http', 'interval', 'load-timeout'] } as const;

/** Default period of the plain status lines. */
const DEFAULT_INTERVAL_MS = 5_000;

/** `steadfast run <module>`: runs a pipeline module until it ends or is stopped; resolves with the exit code, never throws. */
export async function run(argv: readonly string[], io: CliIo, host: RunHost = processHost()): Promise<number> {
  const args = parseArgs(argv, SPEC);
  if (typeof args === 'string') return usage(io, args);
  if (args.flags.has('help')) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  const [module, extra] = args.positionals;
  if (module === undefined) return usage(io, 'run needs a module: steadfast run <module>');
  if (extra !== undefined) return usage(io, `unexpected argument "${extra}"`);
  let env: RunEnv;
  try {
    env = readRunEnv(host.env);
  } catch (error) {
    // A mistake in the environment is one in how the command was called: exit 2, like a bad option.
    writeError(io, messageOf(error));
    return EXIT.usage;
  }
  const http = httpOption(args.values.get('http'), env.http);
  if (typeof http === 'string') return usage(io, http);
  const interval = integerOption('interval', args.values.get('interval'), 0);
  if (typeof interval === 'string') return usage(io, interval);
  if (interval !== undefined && interval > 0 && interval < 100) return usage(io, `option "--interval" must be 0 or at least 100 (ms), got "${interval}"`);
  const loadTimeout = integerOption('load-timeout', args.values.get('load-timeout'), 0);
  if (typeof loadTimeout === 'string') return usage(io, loadTimeout);
  if (loadTimeout !== undefined && loadTimeout > MAX_TIMER_MS) return usage(io, `option "--load-timeout" must be at most ${MAX_TIMER_MS} (ms), got "${loadTimeout}"`);
  const verbose = args.flags.has('verbose');
  // Logs human-readable on a terminal, JSON lines otherwise (a pipe, a file, a log collector).
  const stderrTty = (io.stderr as CliIo['stderr'] & { isTTY?: boolean }).isTTY === true;
  let clearStatus: (() => void) | undefined;
  const pretty = env.logFormat === 'pretty' || (env.logFormat === 'auto' && stderrTty);
  const previous = pretty ? setLogDestination(prettyDestination(io.stderr, { color: stderrTty, before: () => clearStatus?.() })) : undefined;
  try {
    return await runModule(module, io, host, env, { http, interval, loadTimeout, verbose, statusClearer: (clear) => (clearStatus = clear) });
  } finally {
    if (pretty) setLogDestination(previous);
  }
}

interface RunOptions {
  http: HostPort | undefined;
  interval: number | undefined;
  loadTimeout: number | undefined;
  verbose: boolean;
  statusClearer: (clear: () => void) => void;
}

/** Loads the module's pipeline and runs it. */
async function runModule(module: string, io: CliIo, host: RunHost, env: RunEnv, { http, interval, loadTimeout, verbose, statusClearer }: RunOptions): Promise<number> {
  const guard: LoadGuard = { timeoutMs: loadTimeout ?? env.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS };
  if (host.onIdle !== undefined) guard.onIdle = (handler) => (host.onIdle as NonNullable<RunHost['onIdle']>)(handler);
  const pipeline = await guardLoad(loadPipeline(module, host.cwd()), module, guard);
  if ('problem' in pipeline) {
    const code = report(io, pipeline.problem, pipeline.error, verbose);
    // The module may hold the process open (what it waits for, a server it started): end it anyway.
    host.release(code);
    return code;
  }
  return runSession(pipeline, io, host, { http, metrics: env.metrics, intervalMs: interval ?? env.statusIntervalMs ?? DEFAULT_INTERVAL_MS, verbose, statusClearer });
}

/** The address from `--http`, else from STEADFAST_HTTP; a problem names where it came from. */
function httpOption(flag: string | undefined, fromEnv: string | undefined): HostPort | undefined | string {
  const text = flag ?? fromEnv;
  if (text === undefined) return undefined;
  const parsed = parseHostPort(text);
  if (typeof parsed !== 'string') return parsed;
  return flag !== undefined ? `option "--http" ${parsed}` : `STEADFAST_HTTP ${parsed}`;
}

function usage(io: CliIo, problem: string): number {
  writeError(io, `${problem}; see \`steadfast run --help\``);
  return EXIT.usage;
}
