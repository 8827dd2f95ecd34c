// A fork of a checkpoint store at one completed checkpoint: a new LevelDB directory holding that
// checkpoint as its newest, so that a pipeline started on it resumes from there, while the
// original is only read. See docs/checkpointing.md "History and time travel".
import { readdir } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { CheckpointStoreError, ConfigError, messageOf } from '../core/errors.js';
import { deadLetterPrefix, journalPrefix, keyName, parseKey, snapshotKey } from '../core/keys.js';
import { createCheckpointStore } from './create-store.js';
import { open, unseal } from './envelope.js';
import { findCheckpoint, rawEntry } from './history.js';
import { deadLetterCheck } from './records.js';
import type { CheckpointStore, CompletedCheckpoint, RawEntry } from './types.js';

/** What to fork: a checkpoint of a pipeline in an open store, into a new directory. */
export interface ForkOptions {
  /** The store to fork (opened read-only is enough; it is never written). */
  from: CheckpointStore;
  pipeline: string;
  /** The completed checkpoint's id. */
  at: string;
  /** The new store's directory: it must not exist, or be empty. */
  to: string;
}

/** What a fork copied. */
export interface ForkReport {
  location: string;
  checkpoint: CompletedCheckpoint;
  snapshots: number;
  /** Stored bytes of the snapshots copied. */
  bytes: number;
  /** Push journal entries copied: those holding events after the checkpoint's offset. */
  journal: number;
  /** Dead letters copied: those of events at or before the checkpoint's offset, stored by its time. */
  deadLetters: number;
  /** Push-source events after the checkpoint that no journal entry holds any more (pruned by newer checkpoints). */
  journalGap?: { from: number; to: number };
}

/**
 * Copies checkpoint `at` of `pipeline` (its marker and snapshots, byte for byte), the journal
 * entries a replay from its offset needs, and the dead letters as of then, into a new store at
 * `to`. Refuses with CHECKPOINT_NOT_FOUND, CHECKPOINT_CORRUPT (a snapshot missing or failing its
 * checksum), CHECKPOINT_STORE_NOT_EMPTY (`to` holds files). The marker is written last, synced.
 */
export async function forkStore(options: ForkOptions): Promise<ForkReport> {
  const { from, at } = options;
  const pipeline = keyName('pipeline', options.pipeline);
  if (typeof options.to !== 'string' || options.to.length === 0) throw new ConfigError('to', options.to, 'must be a directory path');
  const to = resolve(options.to);
  if (from.kind === 'level' && (to === from.location || to.startsWith(`${from.location}${sep}`))) {
    throw new ConfigError('to', options.to, `must be outside the store being forked (${from.location})`);
  }
  const done = await findCheckpoint(from, pipeline, at);
  const snapshots = await verifiedSnapshots(from, done);
  const journal: RawEntry[] = [];
  for await (const entry of from.entries(journalPrefix(pipeline))) {
    const parsed = parseKey(entry.key);
    if (parsed?.kind === 'journal' && parsed.offset > done.offset) journal.push(entry);
  }
  const letters: RawEntry[] = [];
  for await (const entry of from.entries(deadLetterPrefix(pipeline))) if (letterAsOf(entry, done)) letters.push(entry);
  await expectEmpty(to);
  const target = createCheckpointStore({ dir: to, codec: from.codec });
  try {
    await target.open();
    for (const entry of [...snapshots, ...journal, ...letters]) await target.putRaw(entry.key, entry.value);
    await target.completeCheckpoint(done, { sync: true });
  } finally {
    await target.close();
  }
  const report: ForkReport = { location: to, checkpoint: done, snapshots: snapshots.length, bytes: snapshots.reduce((n, e) => n + e.value.length, 0), journal: journal.length, deadLetters: letters.length };
  const gap = journalGap(journal, done.offset);
  if (gap !== undefined) report.journalGap = gap;
  return report;
}

/** The raw snapshots of `done`, each present and passing its checksum; CHECKPOINT_CORRUPT naming the others. */
async function verifiedSnapshots(store: CheckpointStore, done: CompletedCheckpoint): Promise<RawEntry[]> {
  const found: RawEntry[] = [];
  const bad: string[] = [];
  for (const stage of done.stages) {
    const key = snapshotKey(done.pipeline, stage, done.version);
    const entry = await rawEntry(store, key);
    const sealed = entry === undefined ? undefined : unseal(entry.value);
    if (entry === undefined || sealed === undefined) bad.push(`${key}: snapshot missing`);
    else if (!sealed.ok) bad.push(`${key}: ${sealed.reason}`);
    else found.push(entry);
  }
  if (bad.length > 0) {
    throw new CheckpointStoreError('CHECKPOINT_CORRUPT', store.location, `cannot fork checkpoint ${JSON.stringify(done.checkpointId)} (version ${done.version}) of pipeline ${JSON.stringify(done.pipeline)}: ${bad.join('; ')}`);
  }
  return found;
}

/** A dead letter of an event at or before the checkpoint's offset, stored by its time (unreadable ones stay behind). */
function letterAsOf(entry: RawEntry, done: CompletedCheckpoint): boolean {
  const opened = open(entry.value, { decodeV8: false });
  if (!opened.ok || deadLetterCheck(opened.value, entry.key) !== undefined) return false;
  const letter = opened.value as { offset: number; at: number };
  return letter.offset <= done.offset && letter.at <= done.createdAt;
}

/** Offsets after the checkpoint that the copied journal does not begin with: pushes no entry holds any more. */
function journalGap(journal: readonly RawEntry[], offset: number): { from: number; to: number } | undefined {
  const [first] = journal;
  if (first === undefined) return undefined;
  const opened = open(first.value, { decodeV8: false });
  const start = opened.ok ? (opened.value as { offset: number }).offset : undefined;
  return start !== undefined && start > offset + 1 ? { from: offset + 1, to: start - 1 } : undefined;
}

/** Throws CHECKPOINT_STORE_NOT_EMPTY when `dir` exists and holds anything (or is not a directory). */
async function expectEmpty(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') return;
    const why = code === 'ENOTDIR' ? 'it is not a directory' : messageOf(error);
    throw new CheckpointStoreError('CHECKPOINT_STORE_NOT_EMPTY', dir, `cannot fork into ${dir}: ${why}`, error);
  }
  if (names.length > 0) throw new CheckpointStoreError('CHECKPOINT_STORE_NOT_EMPTY', dir, `cannot fork into ${dir}: it is not empty (${names.length} entr${names.length === 1 ? 'y' : 'ies'}); give a new or empty directory`);
}
