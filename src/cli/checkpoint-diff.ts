// `steadfast checkpoints diff <dir> <a> <b>`: what changed in each stage's stored state between two
// completed checkpoints of one pipeline, as text or JSON. Both checkpoints must verify whole.
import { readCheckpointStates, wholeStates } from '../checkpoint/history.js';
import { diffJson, formatJsonPath } from '../checkpoint/json-diff.js';
import type { JsonChange } from '../checkpoint/json-diff.js';
import type { CheckpointStore, CompletedCheckpoint } from '../checkpoint/types.js';
import { CheckpointStoreError } from '../core/errors.js';
import { locateCheckpoint } from './checkpoint-travel.js';
import { oneLine } from './error-line.js';
import { EXIT } from './main.js';
import type { CliIo } from './main.js';
import { jsonText, toPlain } from './plain-json.js';

/** One stage between the two checkpoints. */
export interface StageDiff {
  stage: string;
  /** `added`/`removed`: the stage has a snapshot only in b / only in a. */
  status: 'same' | 'changed' | 'added' | 'removed';
  changes: JsonChange[];
}

/** Longest value written in the text output; `--json` has them whole. */
const MAX_VALUE = 200;

/** Diffs checkpoints `a` and `b` stage by stage; `json` writes the whole result as JSON. */
export async function diffCheckpoints(io: CliIo, store: CheckpointStore, ids: readonly [string, string], pipelineOption: string | undefined, json: boolean): Promise<number> {
  const [a, b] = ids;
  const pipeline = await locateCheckpoint(store, a, pipelineOption);
  const other = await locateCheckpoint(store, b, pipelineOption);
  if (other !== pipeline) throw new CheckpointStoreError('CHECKPOINT_NOT_FOUND', store.location, `checkpoints ${JSON.stringify(a)} and ${JSON.stringify(b)} are of different pipelines`);
  const left = await readCheckpointStates(store, pipeline, a);
  const right = await readCheckpointStates(store, pipeline, b);
  const before = wholeStates(left, store.location);
  const after = wholeStates(right, store.location);
  const stages = [...new Set([...before.keys(), ...after.keys()])];
  const diffs: StageDiff[] = stages.map((stage) => {
    if (!after.has(stage)) return { stage, status: 'removed', changes: [] };
    if (!before.has(stage)) return { stage, status: 'added', changes: [] };
    const changes = diffJson(toPlain(before.get(stage)), toPlain(after.get(stage)));
    return { stage, status: changes.length === 0 ? 'same' : 'changed', changes };
  });
  if (json) {
    io.stdout.write(`${jsonText({ pipeline, a: summary(left.done), b: summary(right.done), stages: diffs })}\n`);
    return EXIT.ok;
  }
  io.stdout.write(renderDiff(pipeline, left.done, right.done, diffs));
  return EXIT.ok;
}

/** The text form: a heading, then per stage its changes, one per line (`~` changed, `+` added, `-` removed). */
export function renderDiff(pipeline: string, a: CompletedCheckpoint, b: CompletedCheckpoint, diffs: readonly StageDiff[]): string {
  const lines = [`pipeline ${JSON.stringify(pipeline)}: ${a.checkpointId} (version ${a.version}, offset ${a.offset}) -> ${b.checkpointId} (version ${b.version}, offset ${b.offset})`];
  for (const diff of diffs) {
    const name = JSON.stringify(diff.stage);
    if (diff.status === 'same') lines.push(`stage ${name}: no change`);
    else if (diff.status === 'added') lines.push(`stage ${name}: only in ${b.checkpointId}`);
    else if (diff.status === 'removed') lines.push(`stage ${name}: only in ${a.checkpointId}`);
    else {
      lines.push(`stage ${name}: ${diff.changes.length} change${diff.changes.length === 1 ? '' : 's'}`);
      for (const change of diff.changes) lines.push(`  ${changeLine(change)}`);
    }
  }
  return lines.map((line) => `${oneLine(line)}\n`).join('');
}

function changeLine(change: JsonChange): string {
  const path = formatJsonPath(change.path);
  if (change.kind === 'added') return `+ ${path}: ${shown(change.value)}`;
  if (change.kind === 'removed') return `- ${path}: ${shown(change.value)}`;
  return `~ ${path}: ${shown(change.from)} -> ${shown(change.to)}`;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 3)}...` : text;
}

function summary(done: CompletedCheckpoint): { checkpointId: string; version: number; offset: number; createdAt: number } {
  return { checkpointId: done.checkpointId, version: done.version, offset: done.offset, createdAt: done.createdAt };
}
