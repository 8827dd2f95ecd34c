// The history side of `steadfast checkpoints`: each kept checkpoint in `list`, a checkpoint's
// stage states (`show --at`), and `fork`. Names and values are written escaped (table(), jsonText).
import { forkStore } from '../checkpoint/fork-store.js';
import { checkpointHistory, readCheckpointStates } from '../checkpoint/history.js';
import type { CheckpointRecord } from '../checkpoint/history.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { CheckpointStoreError, SteadfastError } from '../core/errors.js';
import { parseKey } from '../core/keys.js';
import { readProblem } from './entry-check.js';
import { oneLine, writeError } from './error-line.js';
import { EXIT } from './main.js';
import type { CliIo } from './main.js';
import { jsonText, toPlain } from './plain-json.js';
import { table } from './table.js';

/** Every pipeline's kept checkpoints, newest first, for `list`. */
export async function historyOf(store: CheckpointStore): Promise<Map<string, CheckpointRecord[]>> {
  const history = new Map<string, CheckpointRecord[]>();
  for (const pipeline of await markerPipelines(store)) history.set(pipeline, await checkpointHistory(store, pipeline));
  return history;
}

/** The `Checkpoints` table of `list`: id, version, time, committed offset, snapshot bytes, whether it verifies whole. */
export function renderHistory(history: Map<string, CheckpointRecord[]>): string {
  const rows = [...history].flatMap(([pipeline, records]) =>
    records.map((r) => [pipeline, r.checkpointId, String(r.version), new Date(r.createdAt).toISOString(), String(r.offset), String(r.bytes), r.verified ? 'yes' : `no: ${r.problems.map((p) => `${p.key}: ${p.reason}`).join('; ')}`]),
  );
  // Without completed checkpoints the listing has said so already.
  if (rows.length === 0) return '';
  return `\nCheckpoints (newest first; a run restored from one replays the source after its offset)\n${table(['PIPELINE', 'CHECKPOINT', 'VERSION', 'CREATED', 'OFFSET', 'BYTES', 'VERIFIES'], rows)}`;
}

/**
 * The pipeline holding checkpoint `id`: `pipeline` when given, else the one whose markers name it.
 * CHECKPOINT_NOT_FOUND listing the ids kept when none does; CONFIG_INVALID asking for --pipeline when several do.
 */
export async function locateCheckpoint(store: CheckpointStore, id: string, pipeline: string | undefined): Promise<string> {
  if (pipeline !== undefined) return pipeline;
  const holders: string[] = [];
  const kept: string[] = [];
  for (const name of await markerPipelines(store)) {
    for await (const marker of store.completed(name)) {
      if (!marker.ok) continue;
      if (marker.value.checkpointId === id) holders.push(name);
      else kept.push(`${marker.value.checkpointId} (${JSON.stringify(name)} version ${marker.value.version})`);
    }
  }
  if (holders.length === 1) return holders[0] as string;
  if (holders.length > 1) throw new SteadfastError('CONFIG_INVALID', `checkpoint ${JSON.stringify(id)} is in pipelines ${holders.map((p) => JSON.stringify(p)).join(', ')}: give --pipeline`);
  const list = kept.length === 0 ? 'it keeps none' : `it keeps ${kept.join(', ')}`;
  throw new CheckpointStoreError('CHECKPOINT_NOT_FOUND', store.location, `no completed checkpoint ${JSON.stringify(id)} in ${store.location}: ${list}`);
}

/** `show --at <id> [--stage s]`: the snapshot of each stage (or one) in that checkpoint, as JSON. */
export async function showAt(io: CliIo, store: CheckpointStore, id: string, pipelineOption: string | undefined, stage: string | undefined): Promise<number> {
  const pipeline = await locateCheckpoint(store, id, pipelineOption);
  const { done, snapshots } = await readCheckpointStates(store, pipeline, id);
  const chosen = stage === undefined ? snapshots : snapshots.filter((s) => s.stage === stage);
  if (chosen.length === 0) {
    writeError(io, `checkpoint ${JSON.stringify(id)} of pipeline ${JSON.stringify(pipeline)} has no stage ${JSON.stringify(stage)}: it holds ${done.stages.map((s) => JSON.stringify(s)).join(', ')}`);
    return EXIT.failure;
  }
  const shown = chosen.map(({ stage: name, read }) => {
    if (read === undefined) return { stage: name, problem: 'snapshot missing' };
    return read.ok ? { key: read.key, checksum: read.checksum, bytes: read.bytes, snapshot: toPlain(read.value) } : { key: read.key, problem: readProblem(read.reason) };
  });
  io.stdout.write(`${jsonText(shown)}\n`);
  return EXIT.ok;
}

/** `fork <dir> --at <id> --to <newdir>`: a new store holding that checkpoint as its newest. */
export async function forkAt(io: CliIo, store: CheckpointStore, id: string, to: string, pipelineOption: string | undefined): Promise<number> {
  const pipeline = await locateCheckpoint(store, id, pipelineOption);
  const report = await forkStore({ from: store, pipeline, at: id, to });
  const { checkpoint: c } = report;
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  io.stdout.write(
    oneLine(
      `forked checkpoint ${c.checkpointId} (version ${c.version}, offset ${c.offset}) of pipeline ${JSON.stringify(pipeline)} into ${report.location}: ${count(report.snapshots, 'snapshot')} (${report.bytes} bytes), ${count(report.journal, 'journal entry').replace('entrys', 'entries')}, ${count(report.deadLetters, 'dead letter')}`,
    ) + '\n',
  );
  if (report.journalGap !== undefined) {
    const { from, to: last } = report.journalGap;
    io.stdout.write(`warning: the push journal no longer holds the events at offsets ${from} to ${last} (newer checkpoints covered and pruned them): a run on the fork cannot replay them\n`);
  }
  io.stdout.write(oneLine(`start the pipeline with checkpoint: { dir: ${JSON.stringify(report.location)} } to resume from it; ${store.location} is unchanged`) + '\n');
  return EXIT.ok;
}

/** Pipelines with completed-checkpoint markers, in key order. */
async function markerPipelines(store: CheckpointStore): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of store.entries('done!')) {
    const parsed = parseKey(entry.key);
    if (parsed?.kind === 'done' && names.at(-1) !== parsed.pipeline) names.push(parsed.pipeline);
  }
  return names;
}
