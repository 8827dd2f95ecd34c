// Checkpoint store key formats (DESIGN.md "Checkpoints"). Pure: builders check their inputs,
// parsers never throw. Names are percent-escaped (`!` → %21, `%` → %25) so that `!` stays a
// separator, and numbers are 16 zero-padded digits so that key order is numeric order.
import { ConfigError } from './errors.js';
import { integerIn } from './validate.js';

/** A parsed store key. */
export type ParsedKey =
  | { kind: 'ckpt'; pipeline: string; stage: string; version: number }
  | { kind: 'meta'; pipeline: string; stage: string }
  | { kind: 'done'; pipeline: string; checkpointId: string }
  | { kind: 'dlq'; pipeline: string; stage: string; offset: number; suffix: number }
  | { kind: 'journal'; pipeline: string; offset: number };

/** Digits of a version or offset in a key: enough for Number.MAX_SAFE_INTEGER. */
export const KEY_DIGITS = 16;

const MAX_NAME = 256;
const DIGITS = /^[0-9]{16}$/;
const SUFFIX = /^[1-9][0-9]{0,15}$/;

/** Throws CONFIG_INVALID unless `value` can be a pipeline, stage or checkpoint id name in a key. */
export function keyName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isName(value)) {
    throw new ConfigError(field, value, `must be a string of 1-${MAX_NAME} characters without control characters or lone surrogates`);
  }
  return value;
}

/** Escapes a name for a key: `%` → `%25`, `!` → `%21`. */
export function escapeName(name: string): string {
  return name.replace(/[%!]/g, (c) => (c === '%' ? '%25' : '%21'));
}

/** Reverses {@link escapeName}; `undefined` for text no escaped name can be. */
export function unescapeName(text: string): string | undefined {
  if (text.length === 0 || text.includes('!') || /%(?!21|25)/.test(text)) return undefined;
  return text.replace(/%2[15]/g, (code) => (code === '%25' ? '%' : '!'));
}

/** A version or offset as 16 zero-padded digits; CONFIG_INVALID unless it is a safe integer >= 0. */
export function keyNumber(field: string, value: unknown): string {
  return String(integerIn(field, value, 0)).padStart(KEY_DIGITS, '0');
}

/** `ckpt!<pipeline>!<stage>!<version>`: one stage instance's snapshot at one version. */
export function snapshotKey(pipeline: string, stage: string, version: number): string {
  return `${snapshotPrefix(pipeline, stage)}${keyNumber('version', version)}`;
}

/** The prefix every snapshot key of one stage instance starts with (ends with `!`). */
export function snapshotPrefix(pipeline: string, stage: string): string {
  return `ckpt!${part('pipeline', pipeline)}!${part('stage', stage)}!`;
}

/** `meta!<pipeline>!<stage>`: the record of a stage instance's newest snapshot. */
export function metaKey(pipeline: string, stage: string): string {
  return `meta!${part('pipeline', pipeline)}!${part('stage', stage)}`;
}

/** `done!<pipeline>!<checkpointId>`: a completed pipeline checkpoint. */
export function doneKey(pipeline: string, checkpointId: string): string {
  return `${donePrefix(pipeline)}${part('checkpointId', checkpointId)}`;
}

/** The prefix of a pipeline's completed-checkpoint keys (ends with `!`). */
export function donePrefix(pipeline: string): string {
  return `done!${part('pipeline', pipeline)}!`;
}

/** `dlq!<pipeline>!<stage>!<offset>`, with `~<suffix>` when `suffix` > 0 (another letter has this offset). */
export function deadLetterKey(pipeline: string, stage: string, offset: number, suffix = 0): string {
  const base = `${deadLetterPrefix(pipeline, stage)}${keyNumber('offset', offset)}`;
  return suffix === 0 ? base : `${base}~${integerIn('suffix', suffix, 1)}`;
}

/** The prefix of dead-letter keys: all, one pipeline's, or one stage instance's (ends with `!`). */
export function deadLetterPrefix(pipeline?: string, stage?: string): string {
  if (pipeline === undefined) return 'dlq!';
  const base = `dlq!${part('pipeline', pipeline)}!`;
  return stage === undefined ? base : `${base}${part('stage', stage)}!`;
}

/** `journal!<pipeline>!<offset>`: events a push source took in, up to that offset, kept until a checkpoint covers them. */
export function journalKey(pipeline: string, offset: number): string {
  return `${journalPrefix(pipeline)}${keyNumber('offset', offset)}`;
}

/** The prefix of a pipeline's journal keys (ends with `!`). */
export function journalPrefix(pipeline: string): string {
  return `journal!${part('pipeline', pipeline)}!`;
}

/** The smallest string above every key that starts with `prefix` (which ends with `!`): an exclusive range end. */
export function prefixEnd(prefix: string): string {
  if (!prefix.endsWith('!')) throw new ConfigError('prefix', prefix, 'must end with "!"');
  return `${prefix.slice(0, -1)}"`;
}

/** Parses any store key; `undefined` when it is not one of the five formats. */
export function parseKey(key: string): ParsedKey | undefined {
  const fields = key.split('!');
  const [kind] = fields;
  if (kind === 'ckpt' && fields.length === 4) {
    const [pipeline, stage] = names(fields[1], fields[2]);
    const version = number(fields[3]);
    if (pipeline === undefined || stage === undefined || version === undefined) return undefined;
    return { kind, pipeline, stage, version };
  }
  if (kind === 'meta' && fields.length === 3) {
    const [pipeline, stage] = names(fields[1], fields[2]);
    return pipeline === undefined || stage === undefined ? undefined : { kind, pipeline, stage };
  }
  if (kind === 'done' && fields.length === 3) {
    const [pipeline, checkpointId] = names(fields[1], fields[2]);
    return pipeline === undefined || checkpointId === undefined ? undefined : { kind, pipeline, checkpointId };
  }
  if (kind === 'dlq' && fields.length === 4) {
    const [pipeline, stage] = names(fields[1], fields[2]);
    const [digits, suffixText, extra] = (fields[3] as string).split('~');
    const offset = number(digits);
    if (pipeline === undefined || stage === undefined || offset === undefined || extra !== undefined) return undefined;
    if (suffixText !== undefined && !SUFFIX.test(suffixText)) return undefined;
    const suffix = suffixText === undefined ? 0 : Number(suffixText);
    if (!Number.isSafeInteger(suffix)) return undefined;
    return { kind, pipeline, stage, offset, suffix };
  }
  if (kind === 'journal' && fields.length === 3) {
    const pipeline = fields[1] === undefined ? undefined : unescapeName(fields[1]);
    const offset = number(fields[2]);
    if (pipeline === undefined || !isName(pipeline) || offset === undefined) return undefined;
    return { kind, pipeline, offset };
  }
  return undefined;
}

// Control characters would garble the CLI's output; lone surrogates do not survive UTF-8.
function isName(text: string): boolean {
  if (text.length === 0 || text.length > MAX_NAME) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0xdc00 && c <= 0xdfff)) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const low = text.charCodeAt(i + 1); // NaN past the end
      if (!(low >= 0xdc00 && low <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

function part(field: string, value: string): string {
  return escapeName(keyName(field, value));
}

function names(a: string | undefined, b: string | undefined): [string | undefined, string | undefined] {
  const first = a === undefined ? undefined : unescapeName(a);
  const second = b === undefined ? undefined : unescapeName(b);
  if (first === undefined || second === undefined || !isName(first) || !isName(second)) return [undefined, undefined];
  return [first, second];
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || !DIGITS.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
