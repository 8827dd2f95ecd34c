// What the store commands make of one raw entry: its kind from the key, and whether its bytes
// hold what the key names. v8 payloads are decoded only when trusted.
import { V8_NOT_TRUSTED, open } from '../checkpoint/envelope.js';
import { completedCheck, deadLetterCheck, journalCheck, metaProblem, snapshotCheck } from '../checkpoint/records.js';
import type { RecordCheck } from '../checkpoint/records.js';
import type { RawEntry } from '../checkpoint/types.js';
import { parseKey } from '../core/keys.js';

/** What the CLI says of a v8 payload it was not allowed to decode. */
export const PASS_TRUST = 'v8 payload: pass --trust to decode';

/** One entry checked: its decoded value, or the problem with it. */
export type CheckedEntry = { key: string; bytes: number; ok: true; value: unknown } | { key: string; bytes: number; ok: false; problem: string; untrusted: boolean };

const CHECKS: Record<'ckpt' | 'meta' | 'done' | 'dlq' | 'journal', RecordCheck> = {
  ckpt: snapshotCheck,
  meta: (value) => metaProblem(value),
  done: completedCheck,
  dlq: deadLetterCheck,
  journal: journalCheck,
};

/** Checks the checksum, the codec and the record shape of an entry; never throws. */
export function checkEntry(entry: RawEntry, trust: boolean): CheckedEntry {
  const { key } = entry;
  const bytes = entry.value.length;
  const parsed = parseKey(key);
  if (parsed === undefined) return { key, bytes, ok: false, problem: 'unrecognised key', untrusted: false };
  const jsonOnly = parsed.kind === 'done' || parsed.kind === 'meta';
  const opened = open(entry.value, jsonOnly ? { codec: 'json' } : { decodeV8: trust });
  if (!opened.ok) {
    const untrusted = opened.reason === V8_NOT_TRUSTED;
    return { key, bytes, ok: false, problem: untrusted ? PASS_TRUST : opened.reason, untrusted };
  }
  const problem = CHECKS[parsed.kind](opened.value, key);
  return problem === undefined ? { key, bytes, ok: true, value: opened.value } : { key, bytes, ok: false, problem, untrusted: false };
}

/** The problem text of a failed store read, in the CLI's words. */
export function readProblem(reason: string): string {
  return reason === V8_NOT_TRUSTED ? PASS_TRUST : reason;
}
