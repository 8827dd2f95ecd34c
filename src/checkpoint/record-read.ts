// A record on its way out of a store: opened from its envelope (checksum, codec) and checked for
// its shape; a bad one is reported with its reason, not thrown.
import { donePrefix, prefixEnd } from '../core/keys.js';
import { open, type OpenOptions } from './envelope.js';
import type { KvBackend } from './kv.js';
import { completedCheck, type RecordCheck } from './records.js';
import type { CompletedCheckpoint, RawEntry, ReadResult } from './types.js';

/** Opens and checks a stored entry; `decodeV8`: whether v8 payloads may be decoded (a trusted directory). */
export function decodeRecord<T>(entry: RawEntry, decodeV8: boolean, options: OpenOptions, check: RecordCheck): ReadResult<T> {
  const opened = open(entry.value, { decodeV8, ...options });
  if (!opened.ok) return { ok: false, key: entry.key, reason: opened.reason };
  const problem = check(opened.value, entry.key);
  if (problem !== undefined) return { ok: false, key: entry.key, reason: problem };
  return { ok: true, key: entry.key, value: opened.value as T, bytes: entry.value.length, checksum: opened.checksum };
}

/** Reads and decodes the record under `key`; undefined when there is none. */
export async function readRecord<T>(backend: KvBackend, key: string, decodeV8: boolean, options: OpenOptions, check: RecordCheck): Promise<ReadResult<T> | undefined> {
  const bytes = await backend.get(key);
  return bytes === undefined ? undefined : decodeRecord<T>({ key, value: bytes }, decodeV8, options, check);
}

/** The completed-checkpoint markers of a pipeline: newest first by version, then by time; unreadable ones last. */
export async function completedMarkers(backend: KvBackend, pipeline: string, decodeV8: boolean): Promise<Array<ReadResult<CompletedCheckpoint>>> {
  const prefix = donePrefix(pipeline);
  const good: Array<Extract<ReadResult<CompletedCheckpoint>, { ok: true }>> = [];
  const bad: Array<ReadResult<CompletedCheckpoint>> = [];
  for await (const entry of backend.entries({ gte: prefix, lt: prefixEnd(prefix) })) {
    const read = decodeRecord<CompletedCheckpoint>(entry, decodeV8, { codec: 'json' }, completedCheck);
    if (read.ok) good.push(read);
    else bad.push(read);
  }
  // Checkpoint ids carry no order: newest first by version, then by time; unreadable ones last.
  good.sort((a, b) => b.value.version - a.value.version || b.value.createdAt - a.value.createdAt);
  return [...good, ...bad];
}
