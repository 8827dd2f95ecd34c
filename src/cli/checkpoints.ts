import type { CheckpointStore, ReadResult, Snapshot } from '../checkpoint/types.js';
import { integerOption } from './args.js';
import type { ParsedArgs } from './args.js';
import { checkEntry, readProblem } from './entry-check.js';
import { writeError } from './error-line.js';
import { EXIT } from './main.js';
import { parseSubcommand } from './subcommand.js';
import type { CliIo } from './main.js';
import { withStore } from './open-store.js';
import { jsonText, toPlain } from './plain-json.js';
import { diffCheckpoints } from './checkpoint-diff.js';
import { forkAt, historyOf, renderHistory, showAt } from './checkpoint-travel.js';
import { planPrune } from './prune-plan.js';
import { repairStore } from './repair.js';
import { storeDamage } from './store-damage.js';
import { listStore } from './store-listing.js';
import type { PipelineListing } from './store-listing.js';
import { table } from './table.js';

const USAGE = `Usage: steadfast checkpoints list <dir> [--json] [--trust]
       steadfast checkpoints verify <dir> [--trust]
       steadfast checkpoints show <dir> [--pipeline p] [--stage s] [--version n] [--all] [--trust]
       steadfast checkpoints show <dir> --at <checkpointId> [--stage s] [--pipeline p] [--trust]
       steadfast checkpoints diff <dir> <a> <b> [--json] [--pipeline p] [--trust]
       steadfast checkpoints fork <dir> --at <checkpointId> --to <newdir> [--pipeline p]
       steadfast checkpoints prune <dir> --keep n
       steadfast checkpoints repair <dir>

Inspects a checkpoint store (a LevelDB directory); never creates one.

Commands:
  list     pipelines, stages, snapshot versions, offsets and sizes, completed checkpoints, and
           each kept checkpoint: id, version, time, committed offset, bytes, whether it verifies
  verify   checks the checksum of every entry; exits 1 if any is corrupt
  show     prints snapshots as JSON: the newest readable one per stage, or --version n, or --all,
           or each stage's (or --stage s's) at checkpoint --at <checkpointId>
  diff     what changed in each stage's state from checkpoint <a> to checkpoint <b>: added,
           removed and changed paths with old -> new values (--json: the same as JSON)
  fork     copies checkpoint --at (marker, snapshots, the push journal after its offset, dead
           letters as of then) into the new or empty directory --to, where it is the newest: a
           pipeline started there resumes from it; <dir> is only read
  prune    keeps the newest n complete checkpoints per pipeline whose marker and snapshots all
           verify, and everything newer; deletes what is older (see docs/checkpoint-store.md)
  repair   runs LevelDB's repair on a store whose LevelDB files are damaged (stop the
           pipeline first), then says what it holds (see docs/checkpointing.md)

Options:
  --json            machine-readable output (list, diff)
  --at <id>         a completed checkpoint's id, as list shows it (show, fork)
  --pipeline <p>    the pipeline, when a checkpoint id is in more than one
  --trust           decode v8 payloads (only for a directory you trust)
  --verbose         show the stack of an error
  -h, --help        show this help
`;

const SPEC = {
  list: { flags: ['json', 'trust', 'verbose'], values: [] },
  verify: { flags: ['trust', 'verbose'], values: [] },
  show: { flags: ['all', 'trust', 'verbose'], values: ['pipeline', 'stage', 'version', 'at'] },
  diff: { flags: ['json', 'trust', 'verbose'], values: ['pipeline'], operands: ['a', 'b'] },
  fork: { flags: ['verbose'], values: ['at', 'to', 'pipeline'] },
  prune: { flags: ['verbose'], values: ['keep'] },
  repair: { flags: ['verbose'], values: [] },
} as const;

/** `steadfast checkpoints list|verify|show|diff|fork|prune|repair <dir>`; resolves with the exit code, never throws. */
export async function checkpoints(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseSubcommand(argv, io, { command: 'checkpoints', usage: USAGE, subs: SPEC });
  if (typeof parsed === 'number') return parsed;
  const { sub, args, dir, operands } = parsed;
  const trust = args.flags.has('trust');
  const verbose = args.flags.has('verbose');
  switch (sub) {
    case 'list':
      return withStore(io, { dir, write: false, trust, verbose }, (store) => list(io, store, args, trust));
    case 'verify':
      return withStore(io, { dir, write: false, trust, verbose }, (store) => verify(io, store, trust));
    case 'show': {
      const at = args.values.get('at');
      if (at !== undefined) {
        if (args.values.has('version') || args.flags.has('all')) return usage(io, 'checkpoints show --at takes neither --version nor --all');
        return withStore(io, { dir, write: false, trust, verbose }, (store) => showAt(io, store, at, args.values.get('pipeline'), args.values.get('stage')));
      }
      const version = integerOption('version', args.values.get('version'), 0);
      if (typeof version === 'string') return usage(io, version);
      return withStore(io, { dir, write: false, trust, verbose }, (store) => show(io, store, args, version));
    }
    case 'diff':
      return withStore(io, { dir, write: false, trust, verbose }, (store) =>
        diffCheckpoints(io, store, [operands[0] as string, operands[1] as string], args.values.get('pipeline'), args.flags.has('json')),
      );
    case 'fork': {
      const at = args.values.get('at');
      const to = args.values.get('to');
      if (at === undefined || to === undefined) return usage(io, 'checkpoints fork needs --at <checkpointId> and --to <newdir>');
      // v8 payloads are copied as bytes, checked by their checksums, never decoded: no --trust needed.
      return withStore(io, { dir, write: false, trust: false, verbose }, (store) => forkAt(io, store, at, to, args.values.get('pipeline')));
    }
    case 'prune': {
      const keep = integerOption('keep', args.values.get('keep'), 1);
      if (keep === undefined) return usage(io, 'checkpoints prune needs --keep n');
      if (typeof keep === 'string') return usage(io, keep);
      return withStore(io, { dir, write: true, trust: false, verbose }, (store) => prune(io, store, keep));
    }
    case 'repair':
      return repairStore(io, dir, verbose);
  }
}

async function list(io: CliIo, store: CheckpointStore, args: ParsedArgs, trust: boolean): Promise<number> {
  const pipelines = await listStore(store.entries(), trust);
  const history = await historyOf(store);
  if (args.flags.has('json')) {
    const withHistory = pipelines.map((p) => ({ ...p, checkpoints: history.get(p.pipeline) ?? [] }));
    io.stdout.write(`${jsonText({ location: store.location, pipelines: withHistory })}\n`);
    return EXIT.ok;
  }
  if (pipelines.length === 0) {
    io.stdout.write(`no checkpoints in ${store.location}\n`);
    return EXIT.ok;
  }
  io.stdout.write(renderListing(pipelines) + renderHistory(history));
  return EXIT.ok;
}

function renderListing(pipelines: PipelineListing[]): string {
  const time = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());
  const show = (n: number | undefined): string => (n === undefined ? '-' : String(n));
  const snapshots = pipelines.flatMap((p) =>
    p.stages.flatMap((s) => s.snapshots.map((v) => [p.pipeline, s.stage, String(v.version), show(v.offset), String(v.bytes), time(v.createdAt), v.problem ?? 'ok'])),
  );
  const completed = pipelines.flatMap((p) =>
    p.completed.map((c) => [p.pipeline, show(c.version), show(c.offset), c.checkpointId, time(c.createdAt), c.stages?.join(',') ?? '-', c.problem ?? 'ok']),
  );
  let text = `Snapshots\n${table(['PIPELINE', 'STAGE', 'VERSION', 'OFFSET', 'BYTES', 'CREATED', 'STATUS'], snapshots)}`;
  text += completed.length === 0 ? '\nCompleted checkpoints: none\n' : `\nCompleted checkpoints\n${table(['PIPELINE', 'VERSION', 'OFFSET', 'CHECKPOINT', 'CREATED', 'STAGES', 'STATUS'], completed)}`;
  return text;
}

async function verify(io: CliIo, store: CheckpointStore, trust: boolean): Promise<number> {
  let total = 0;
  let corrupt = 0;
  let undecoded = 0;
  for await (const entry of store.entries()) {
    total++;
    const checked = checkEntry(entry, trust);
    // An untrusted v8 payload passed its checksum; only its decoding was skipped.
    if (!checked.ok && checked.untrusted) undecoded++;
    else if (!checked.ok) {
      corrupt++;
      io.stdout.write(`corrupt ${checked.key}: ${checked.problem}\n`);
    }
  }
  const skipped = undecoded === 0 ? '' : ` (${undecoded} v8 payload${undecoded === 1 ? '' : 's'} checked but not decoded: pass --trust to decode)`;
  const damage = await storeDamage(store);
  for (const line of damage) io.stdout.write(`damaged: ${line}\n`);
  if (damage.length > 0) {
    io.stdout.write(`${corrupt} of ${total} entr${total === 1 ? 'y' : 'ies'} corrupt, and the store lost data below the checksums${skipped}\n`);
    return EXIT.failure;
  }
  if (corrupt > 0) {
    io.stdout.write(`${corrupt} of ${total} entr${total === 1 ? 'y' : 'ies'} corrupt${skipped}\n`);
    return EXIT.failure;
  }
  io.stdout.write(`${total} entr${total === 1 ? 'y' : 'ies'} verified, none corrupt${skipped}\n`);
  return EXIT.ok;
}

async function show(io: CliIo, store: CheckpointStore, args: ParsedArgs, version: number | undefined): Promise<number> {
  const pipeline = args.values.get('pipeline');
  const stage = args.values.get('stage');
  const shown: unknown[] = [];
  for (const p of await store.pipelines()) {
    if (pipeline !== undefined && p.pipeline !== pipeline) continue;
    for (const s of p.stages) {
      if (stage !== undefined && s !== stage) continue;
      if (version !== undefined) {
        const read = await store.readSnapshot(p.pipeline, s, version);
        if (read !== undefined) shown.push(shownRead(read));
        continue;
      }
      for await (const read of store.snapshots(p.pipeline, s)) {
        shown.push(shownRead(read));
        if (read.ok && !args.flags.has('all')) break;
      }
    }
  }
  if (shown.length === 0) {
    const filters = [pipeline && `pipeline "${pipeline}"`, stage && `stage "${stage}"`, version !== undefined && `version ${version}`].filter(Boolean);
    writeError(io, `no snapshots${filters.length === 0 ? '' : ` of ${filters.join(', ')}`} in ${store.location}`);
    return EXIT.failure;
  }
  io.stdout.write(`${jsonText(shown)}\n`);
  return EXIT.ok;
}

function shownRead(read: ReadResult<Snapshot>): unknown {
  return read.ok ? { key: read.key, checksum: read.checksum, bytes: read.bytes, snapshot: toPlain(read.value) } : { key: read.key, problem: readProblem(read.reason) };
}

async function prune(io: CliIo, store: CheckpointStore, keep: number): Promise<number> {
  const plan = await planPrune(store.entries(), keep);
  await store.deleteKeys([...plan.snapshots, ...plan.markers], { sync: true });
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  for (const pipeline of plan.unrestorable) io.stdout.write(`kept everything of pipeline ${JSON.stringify(pipeline)}: none of its completed checkpoints verifies whole\n`);
  io.stdout.write(`pruned ${count(plan.snapshots.length, 'snapshot')} and ${count(plan.markers.length, 'completed-checkpoint marker')}; kept the newest ${keep} complete checkpoint${keep === 1 ? '' : 's'} that verify, and everything newer\n`);
  return EXIT.ok;
}

function usage(io: CliIo, problem: string): number {
  writeError(io, `${problem}; see \`steadfast checkpoints --help\``);
  return EXIT.usage;
}
