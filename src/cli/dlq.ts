import type { CheckpointStore, ReadResult, StoredDeadLetter } from '../checkpoint/types.js';
import { parseKey } from '../core/keys.js';
import type { ParsedArgs } from './args.js';
import { readProblem } from './entry-check.js';
import { EXIT } from './main.js';
import { parseSubcommand } from './subcommand.js';
import type { CliIo } from './main.js';
import { withStore } from './open-store.js';
import { toPlain } from './plain-json.js';
import { table } from './table.js';

const USAGE = `Usage: steadfast dlq list <dir> [--pipeline p] [--stage s] [--json] [--trust]
       steadfast dlq replay <dir> [--pipeline p] [--stage s] [--trust]

Dead letters of a checkpoint store: events that exhausted their retries or met a stage in
deadLetter mode. \`replay\` marks them; the pipeline re-injects marked letters at its next start.

Options:
  --pipeline <p>    only this pipeline's letters
  --stage <s>       only this stage's letters
  --json            one JSON object per line (list)
  --trust           decode v8 payloads (only for a directory you trust)
  --verbose         show the stack of an error
  -h, --help        show this help
`;

const SPEC = {
  list: { flags: ['json', 'trust', 'verbose'], values: ['pipeline', 'stage'] },
  replay: { flags: ['trust', 'verbose'], values: ['pipeline', 'stage'] },
} as const;

/** `steadfast dlq list|replay <dir>`; resolves with the exit code, never throws. */
export async function dlq(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseSubcommand(argv, io, { command: 'dlq', usage: USAGE, subs: SPEC });
  if (typeof parsed === 'number') return parsed;
  const { sub, args, dir } = parsed;
  const access = { dir, write: sub === 'replay', trust: args.flags.has('trust'), verbose: args.flags.has('verbose') };
  return withStore(io, access, (store) => (sub === 'replay' ? replay(io, store, args) : list(io, store, args)));
}

async function letters(store: CheckpointStore, args: ParsedArgs): Promise<Array<ReadResult<StoredDeadLetter>>> {
  const stage = args.values.get('stage');
  const all = await store.deadLetters(args.values.get('pipeline'));
  // a failed read has no stage to filter on but its key's
  return stage === undefined ? all : all.filter((read) => (read.ok ? read.value.stage : stageOfKey(read.key)) === stage);
}

async function list(io: CliIo, store: CheckpointStore, args: ParsedArgs): Promise<number> {
  const found = await letters(store, args);
  if (args.flags.has('json')) {
    for (const read of found) io.stdout.write(`${JSON.stringify(read.ok ? toPlain(read.value) : { key: read.key, problem: readProblem(read.reason) })}\n`);
    return EXIT.ok;
  }
  if (found.length === 0) {
    io.stdout.write(`no dead letters in ${store.location}\n`);
    return EXIT.ok;
  }
  const rows = found.flatMap((read) => (read.ok ? [row(read.value)] : []));
  if (rows.length > 0) io.stdout.write(table(['PIPELINE', 'STAGE', 'OFFSET', 'ATTEMPTS', 'AT', 'REPLAY', 'ERROR'], rows));
  for (const read of found) if (!read.ok) io.stdout.write(`${read.key}: ${readProblem(read.reason)}\n`);
  return EXIT.ok;
}

function stageOfKey(key: string): string | undefined {
  const parsed = parseKey(key);
  return parsed?.kind === 'dlq' ? parsed.stage : undefined;
}

function row(letter: StoredDeadLetter): string[] {
  const error = `${letter.error.name}${letter.error.code === undefined ? '' : ` ${letter.error.code}`}: ${letter.error.message}`.replace(/\s+/g, ' ');
  return [letter.pipeline, letter.stage, String(letter.offset), String(letter.attempts), new Date(letter.at).toISOString(), letter.replay === true ? 'yes' : 'no', error];
}

async function replay(io: CliIo, store: CheckpointStore, args: ParsedArgs): Promise<number> {
  const found = await letters(store, args);
  const marking = found.flatMap((read) => (read.ok && read.value.replay !== true ? [read.key] : []));
  const already = found.filter((read) => read.ok && read.value.replay === true).length;
  const failed = found.filter((read) => !read.ok);
  for (const read of failed) if (!read.ok) io.stdout.write(`not marked ${read.key}: ${readProblem(read.reason)}\n`);
  if (marking.length > 0) await store.markForReplay(marking);
  const plural = (n: number): string => `${n} dead letter${n === 1 ? '' : 's'}`;
  const before = already === 0 ? '' : ` (${already} already marked)`;
  io.stdout.write(`marked ${plural(marking.length)} for replay${before}; the pipeline re-injects marked letters at its next start\n`);
  return failed.length === 0 ? EXIT.ok : EXIT.failure;
}

