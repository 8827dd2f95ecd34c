// A small command-line parser for the store commands: `--flag`, `--name value`, `--name=value`,
// `-h`, and positionals (everything after `--` is positional). Problems come back as one-line
// strings for a usage error, never as exceptions.

/** Which options a command takes: boolean flags and options with a value. */
export interface ArgSpec {
  flags: readonly string[];
  values: readonly string[];
  /** Names of the positionals a subcommand takes after its directory (`diff <dir> <a> <b>`). */
  operands?: readonly string[];
}

/** What was given. */
export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

/** Parses `argv` against `spec`; returns a usage problem as a string. */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs | string {
  const parsed: ParsedArgs = { positionals: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      parsed.flags.add('help');
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1) return `unknown option "${arg}"`;
      parsed.positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    if (spec.flags.includes(name) || name === 'help') {
      if (equals >= 0) return `option "--${name}" takes no value`;
      parsed.flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = equals >= 0 ? arg.slice(equals + 1) : argv[++i];
      if (value === undefined || value === '' || (equals < 0 && value.startsWith('--'))) return `option "--${name}" needs a value`;
      if (parsed.values.has(name)) return `option "--${name}" given twice`;
      parsed.values.set(name, value);
    } else {
      return `unknown option "--${name}"`;
    }
  }
  return parsed;
}

/** A non-negative safe integer from an option's text, or a usage problem. */
export function integerOption(name: string, text: string | undefined, min: number): number | string | undefined {
  if (text === undefined) return undefined;
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) return `option "--${name}" must be an integer >= ${min}, got "${text}"`;
  return value;
}
