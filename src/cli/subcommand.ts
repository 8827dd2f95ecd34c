import { parseArgs, type ArgSpec, type ParsedArgs } from './args.js';
import { writeError } from './error-line.js';
import { EXIT } from './main.js';
import type { CliIo } from './main.js';

/** A command made of subcommands that each take one store directory: `steadfast <command> <sub> <dir>`. */
export interface SubcommandSpec<S extends string> {
  command: string;
  usage: string;
  subs: Record<S, ArgSpec>;
}

/** What the command line asked for, or the exit code when it was help or a usage error (already printed). */
export type Parsed<S extends string> = { sub: S; args: ParsedArgs; dir: string; operands: string[] } | number;

/** Parses `<sub> [options] <dir>`: help on `help`/`--help`, a usage error (exit 2, one line) for anything else amiss. */
export function parseSubcommand<S extends string>(argv: readonly string[], io: CliIo, spec: SubcommandSpec<S>): Parsed<S> {
  const usage = (problem: string): number => {
    writeError(io, `${problem}; see \`steadfast ${spec.command} --help\``);
    return EXIT.usage;
  };
  const names = Object.keys(spec.subs);
  const [sub, ...rest] = argv;
  if (sub === undefined) return usage(`${spec.command} needs a subcommand: ${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names.at(-1)}`);
  if (sub === 'help' || sub === '-h' || sub === '--help') {
    io.stdout.write(spec.usage);
    return EXIT.ok;
  }
  if (!Object.hasOwn(spec.subs, sub)) return usage(`unknown subcommand "${sub}"`);
  const args = parseArgs(rest, spec.subs[sub as S]);
  if (typeof args === 'string') return usage(args);
  if (args.flags.has('help')) {
    io.stdout.write(spec.usage);
    return EXIT.ok;
  }
  const [dir, ...operands] = args.positionals;
  if (dir === undefined) return usage(`${spec.command} ${sub} needs a store directory`);
  const wanted = spec.subs[sub as S].operands ?? [];
  if (operands.length > wanted.length) return usage(`unexpected argument "${operands[wanted.length]}"`);
  if (operands.length < wanted.length) return usage(`${spec.command} ${sub} needs ${wanted.map((name) => `<${name}>`).join(' ')} after the store directory`);
  return { sub: sub as S, args, dir, operands };
}
