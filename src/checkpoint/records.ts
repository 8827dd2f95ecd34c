// The shapes of stored records: checks of what callers write (ConfigError) and of what is read
// back (a reason string, so that a read can report it instead of throwing). Pure.
import { ConfigError } from '../core/errors.js';
import { keyName, keyNumber } from '../core/keys.js';
import { parseKey } from '../core/keys.js';
import type { ParsedKey } from '../core/keys.js';
import { integerIn, knownKeys, record } from '../core/validate.js';
import type { CompletedCheckpoint, DeadLetter, JournalEntry, Snapshot, StoredDeadLetter, WriteOptions } from './types.js';

/** The `meta!` record of a stage instance: where its newest snapshot is and what it holds. */
export interface SnapshotMeta {
  version: number;
  key: string;
  checksum: string;
  bytes: number;
  createdAt: number;
  offset: number;
}

/** Checks a snapshot to write; returns a copy holding only the snapshot's fields. */
export function snapshotInput(value: Snapshot): Snapshot {
  const snapshot = record('snapshot', value);
  return {
    pipeline: keyName('snapshot.pipeline', snapshot.pipeline),
    stage: keyName('snapshot.stage', snapshot.stage),
    version: versionOf('snapshot.version', snapshot.version),
    offset: integerIn('snapshot.offset', snapshot.offset, -1),
    checkpointId: keyName('snapshot.checkpointId', snapshot.checkpointId),
    createdAt: timeOf('snapshot.createdAt', snapshot.createdAt),
    state: snapshot.state,
  };
}

/** Checks a completed checkpoint to record; returns a copy. */
export function completedInput(value: CompletedCheckpoint): CompletedCheckpoint {
  const done = record('checkpoint', value);
  if (!Array.isArray(done.stages)) throw new ConfigError('checkpoint.stages', done.stages, 'must be an array of stage names');
  return {
    pipeline: keyName('checkpoint.pipeline', done.pipeline),
    checkpointId: keyName('checkpoint.checkpointId', done.checkpointId),
    version: versionOf('checkpoint.version', done.version),
    offset: integerIn('checkpoint.offset', done.offset, -1),
    createdAt: timeOf('checkpoint.createdAt', done.createdAt),
    stages: done.stages.map((stage: unknown, i: number) => keyName(`checkpoint.stages[${i}]`, stage)),
  };
}

/** Checks a dead letter to store; returns a copy. */
export function deadLetterInput(value: DeadLetter): DeadLetter {
  const letter = record('deadLetter', value);
  const error = record('deadLetter.error', letter.error);
  if (error.code !== undefined && typeof error.code !== 'string') throw new ConfigError('deadLetter.error.code', error.code, 'must be a string or undefined');
  const copy: DeadLetter = {
    pipeline: keyName('deadLetter.pipeline', letter.pipeline),
    stage: keyName('deadLetter.stage', letter.stage),
    offset: versionOf('deadLetter.offset', letter.offset),
    event: letter.event,
    error: { name: text('deadLetter.error.name', error.name), code: error.code as string | undefined, message: text('deadLetter.error.message', error.message) },
    attempts: integerIn('deadLetter.attempts', letter.attempts, 0),
    at: timeOf('deadLetter.at', letter.at),
  };
  if (letter.replay !== undefined) {
    if (typeof letter.replay !== 'boolean') throw new ConfigError('deadLetter.replay', letter.replay, 'must be a boolean or undefined');
    copy.replay = letter.replay;
  }
  return copy;
}

/** A dead letter as read back: its key added, and `error.code` present even when JSON dropped an undefined one. */
export function storedDeadLetter(letter: DeadLetter, key: string): StoredDeadLetter {
  const code = typeof letter.error.code === 'string' ? letter.error.code : undefined;
  return { ...letter, error: { ...letter.error, code }, key };
}

/** Checks write options: `sync` a boolean, `pruneBelow` a version. */
export function writeOptionsInput(value: WriteOptions | undefined): { sync: boolean; pruneBelow: number | undefined } {
  if (value === undefined) return { sync: false, pruneBelow: undefined };
  const options = record('options', value);
  knownKeys('options', options, ['sync', 'pruneBelow']);
  if (options.sync !== undefined && typeof options.sync !== 'boolean') throw new ConfigError('options.sync', options.sync, 'must be a boolean');
  return {
    sync: options.sync === true,
    pruneBelow: options.pruneBelow === undefined ? undefined : versionOf('options.pruneBelow', options.pruneBelow),
  };
}

/** Checks a journal append (a non-empty run of events with consecutive offsets); returns its entry. */
export function journalInput(pipeline: string, events: readonly unknown[], offsets: readonly number[]): JournalEntry {
  keyName('pipeline', pipeline);
  if (!Array.isArray(events) || !Array.isArray(offsets) || events.length !== offsets.length || events.length === 0) {
    throw new ConfigError('offsets', offsets, `must be a non-empty array with one offset per event (${Array.isArray(events) ? events.length : 'no'} events)`);
  }
  const first = offsets[0] as number;
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i] !== first + i) throw new ConfigError(`offsets[${i}]`, offsets[i], `must follow offsets[${i - 1}] by one (a journal entry holds consecutive offsets)`);
  }
  return { pipeline, offset: first, events: [...events] };
}

/** Checks a list of store keys (each a non-empty string); returns a copy. */
export function keyList(field: string, keys: unknown): string[] {
  if (!Array.isArray(keys)) throw new ConfigError(field, keys, 'must be an array of keys');
  return keys.map((key: unknown, i) => {
    if (typeof key !== 'string' || key.length === 0) throw new ConfigError(`${field}[${i}]`, key, 'must be a non-empty string');
    return key;
  });
}

/** Checks a decoded value against the key it was read under; a reason, or `undefined` when it fits. */
export type RecordCheck = (value: unknown, key: string) => string | undefined;

/** Why a value read under a snapshot key is not that snapshot; `undefined` when it is. */
export function snapshotCheck(value: unknown, key: string): string | undefined {
  const parsed = parseKey(key);
  return parsed?.kind === 'ckpt' ? snapshotProblem(value, parsed) : 'not a snapshot key';
}

/** Why a value read under a `done!` key is not that completed checkpoint. */
export function completedCheck(value: unknown, key: string): string | undefined {
  const parsed = parseKey(key);
  return parsed?.kind === 'done' ? completedProblem(value, parsed) : 'not a completed-checkpoint key';
}

/** Why a value read under a `dlq!` key is not that dead letter. */
export function deadLetterCheck(value: unknown, key: string): string | undefined {
  const parsed = parseKey(key);
  return parsed?.kind === 'dlq' ? deadLetterProblem(value, parsed) : 'not a dead-letter key';
}

/** Why a decoded value is not the snapshot its key names; `undefined` when it is. */
export function snapshotProblem(value: unknown, key: Extract<ParsedKey, { kind: 'ckpt' }>): string | undefined {
  if (!isObject(value)) return 'not a snapshot object';
  if (value.pipeline !== key.pipeline || value.stage !== key.stage) return `holds ${JSON.stringify(value.pipeline)}/${JSON.stringify(value.stage)}, its key names ${JSON.stringify(key.pipeline)}/${JSON.stringify(key.stage)}`;
  if (value.version !== key.version) return `holds version ${String(value.version)}, its key names ${key.version}`;
  if (!isInteger(value.offset, -1) || typeof value.checkpointId !== 'string' || !isTime(value.createdAt)) return 'malformed snapshot fields';
  return undefined;
}

/** Why a decoded value is not the completed checkpoint its key names; `undefined` when it is. */
export function completedProblem(value: unknown, key: Extract<ParsedKey, { kind: 'done' }>): string | undefined {
  if (!isObject(value)) return 'not a completed-checkpoint object';
  if (value.pipeline !== key.pipeline || value.checkpointId !== key.checkpointId) return 'holds another pipeline or checkpoint id than its key names';
  if (!isInteger(value.version, 0) || !isInteger(value.offset, -1) || !isTime(value.createdAt)) return 'malformed completed-checkpoint fields';
  if (!Array.isArray(value.stages) || !value.stages.every((s) => typeof s === 'string')) return 'malformed completed-checkpoint stages';
  return undefined;
}

/** Why a decoded value is not the dead letter its key names; `undefined` when it is. */
export function deadLetterProblem(value: unknown, key: Extract<ParsedKey, { kind: 'dlq' }>): string | undefined {
  if (!isObject(value)) return 'not a dead-letter object';
  if (value.pipeline !== key.pipeline || value.stage !== key.stage || value.offset !== key.offset) return 'holds another pipeline, stage or offset than its key names';
  if (!isObject(value.error) || typeof value.error.message !== 'string' || !isInteger(value.attempts, 0) || !isTime(value.at)) return 'malformed dead-letter fields';
  return undefined;
}

/** Why a value read under a `journal!` key is not that journal entry. */
export function journalCheck(value: unknown, key: string): string | undefined {
  const parsed = parseKey(key);
  if (parsed?.kind !== 'journal') return 'not a journal key';
  if (!isObject(value)) return 'not a journal entry object';
  if (!Array.isArray(value.events) || value.events.length === 0 || !isInteger(value.offset, 0)) return 'malformed journal entry';
  if (value.pipeline !== parsed.pipeline || value.offset + value.events.length - 1 !== parsed.offset) return 'holds another pipeline or offsets than its key names';
  return undefined;
}

/** Why a decoded value is not a meta record; `undefined` when it is. */
export function metaProblem(value: unknown): string | undefined {
  if (!isObject(value) || !isInteger(value.version, 0) || typeof value.key !== 'string' || typeof value.checksum !== 'string') return 'malformed meta record';
  return undefined;
}

function versionOf(field: string, value: unknown): number {
  keyNumber(field, value);
  return value as number;
}

function timeOf(field: string, value: unknown): number {
  if (!isTime(value)) throw new ConfigError(field, value, 'must be a finite number of epoch milliseconds');
  return value;
}

function text(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ConfigError(field, value, 'must be a string');
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
