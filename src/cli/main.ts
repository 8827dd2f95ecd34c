import { createRequire } from 'node:module';
import { checkpoints } from './checkpoints.js';
import { dlq } from './dlq.js';
import { writeError } from './error-line.js';
import { run } from './run.js';
import { viz } from './viz.js';

/** Where the CLI writes. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE = `Usage: steadfast <command> [options]

Supervised, checkpointed actor pipelines for Node.js.

Commands:
  help              show this help
  version           print the version
  run <module>      run the pipeline a module exports; \`steadfast run --help\`
  viz [machine]     print a statechart (Mermaid or DOT); \`steadfast viz --help\`
  checkpoints list|verify|show|diff|fork|prune|repair <dir>
                    inspect, verify, diff, fork, prune and repair a checkpoint store; \`steadfast checkpoints --help\`
  dlq list|replay <dir>
                    list dead letters, or mark them for replay; \`steadfast dlq --help\`

Options:
  -h, --help        show this help
  -v, --version     print the version

Exit codes: 0 ok, 1 runtime failure, 2 usage error.
`;

/** Runs the CLI with the given arguments; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (command === 'version' || command === '-v' || command === '--version') {
    if (rest.length > 0) return usage(io, `unexpected argument "${rest[0]}"`);
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (command === 'run') return run(rest, io);
  if (command === 'viz') return viz(rest, io);
  if (command === 'checkpoints') return checkpoints(rest, io);
  if (command === 'dlq') return dlq(rest, io);
  return usage(io, `unknown command "${command}"`);
}

function usage(io: CliIo, problem: string): number {
  writeError(io, `${problem}; see \`steadfast --help\``);
  return EXIT.usage;
}

function version(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'steadfast' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next location: src/cli in development, dist/src/cli when built
    }
  }
  return 'unknown';
}
