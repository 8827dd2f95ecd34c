import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { builtinMachine, builtinMachines } from '../viz/builtin-machines.js';
import { isStateMachine } from '../viz/is-state-machine.js';
import { toDot } from '../viz/to-dot.js';
import { toMermaid } from '../viz/to-mermaid.js';
import { writeError } from './error-line.js';
import { EXIT, type CliIo } from './main.js';

const FORMATS = ['mermaid', 'dot'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `Usage: steadfast viz [machine] [--format mermaid|dot]
       steadfast viz --module <path> [--export <name>] [--format mermaid|dot]

Prints a statechart of a built-in machine, or of an XState v5 machine exported by a module
(a .js or .mjs file; a .ts file when run under tsx). Without a machine, lists the built-ins.

Options:
  --format <f>      mermaid (stateDiagram-v2, the default) or dot (Graphviz)
  --module <path>   the module to import, relative to the current directory
  --export <name>   the export holding the machine (default: the default export)
  --verbose         show the stack of a module that fails to load
  -h, --help        show this help
`;

interface VizArgs {
  machine: string | undefined;
  format: Format;
  module: string | undefined;
  exportName: string | undefined;
  verbose: boolean;
  help: boolean;
}

/** `steadfast viz`: prints a machine's statechart as Mermaid or DOT; resolves with the exit code. */
export async function viz(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') return usage(io, parsed);
  if (parsed.help) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (parsed.module !== undefined) {
    const loaded = await loadMachine(parsed.module, parsed.exportName ?? 'default');
    if ('problem' in loaded) {
      writeError(io, loaded.problem);
      if (parsed.verbose && loaded.error instanceof Error && loaded.error.stack !== undefined) io.stderr.write(`${loaded.error.stack}\n`);
      return EXIT.failure;
    }
    return render(io, loaded, parsed.format);
  }
  if (parsed.machine === undefined) {
    const width = Math.max(...builtinMachines.map((builtin) => builtin.name.length));
    io.stdout.write(builtinMachines.map((builtin) => `${builtin.name.padEnd(width)}  ${builtin.summary}\n`).join(''));
    return EXIT.ok;
  }
  const builtin = builtinMachine(parsed.machine);
  if (builtin === undefined) {
    return usage(io, `unknown machine "${parsed.machine}" (built-in: ${builtinMachines.map((b) => b.name).join(', ')})`);
  }
  return render(io, builtin.machine, parsed.format);
}

/** Writes the diagram; a machine the export cannot read is a runtime failure, one line. */
function render(io: CliIo, machine: AnyStateMachine, format: Format): number {
  let text: string;
  try {
    text = format === 'dot' ? toDot(machine) : toMermaid(machine);
  } catch (error) {
    writeError(io, `cannot draw machine "${machine.id}": ${firstLine(error)}`);
    return EXIT.failure;
  }
  io.stdout.write(text);
  return EXIT.ok;
}

/** The arguments, or what is wrong with them (one line). */
function parseArgs(argv: readonly string[]): VizArgs | string {
  const args: VizArgs = { machine: undefined, format: 'mermaid', module: undefined, exportName: undefined, verbose: false, help: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '-h' || flag === '--help') args.help = true;
    else if (flag === '--verbose') args.verbose = true;
    else if (flag === '--format') {
      const format = value();
      if (format === undefined) return '--format needs a value: mermaid or dot';
      if (!(FORMATS as readonly string[]).includes(format)) return `unknown format "${format}" (mermaid or dot)`;
      args.format = format as Format;
    } else if (flag === '--module' || flag === '--export') {
      const given = value();
      if (given === undefined || given === '') return `${flag} needs a value`;
      if (flag === '--module') args.module = given;
      else args.exportName = given;
    } else if (arg.startsWith('-')) return `unknown option "${arg}"`;
    else if (args.machine !== undefined) return `unexpected argument "${arg}"`;
    else args.machine = arg;
  }
  if (args.help) return args;
  if (args.exportName !== undefined && args.module === undefined) return '--export needs --module';
  if (args.module !== undefined && args.machine !== undefined) return `give a built-in machine or --module, not both (got "${args.machine}")`;
  return args;
}

/** Imports the module and returns its machine, or why it could not (one line, and the error when there is one). */
async function loadMachine(path: string, exportName: string): Promise<AnyStateMachine | { problem: string; error?: unknown }> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    return { problem: `cannot load module "${path}": ${firstLine(error)}`, error };
  }
  if (!(exportName in exports)) {
    const names = Object.keys(exports).sort();
    return { problem: `module "${path}" has no export "${exportName}" (exports: ${names.length > 0 ? names.join(', ') : 'none'})` };
  }
  const machine = exports[exportName];
  if (!isStateMachine(machine)) {
    return { problem: `export "${exportName}" of "${path}" is not an XState v5 machine (createMachine or setup().createMachine)` };
  }
  return machine;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? '';
}

function usage(io: CliIo, problem: string): number {
  writeError(io, `${problem}; see \`steadfast viz --help\``);
  return EXIT.usage;
}
