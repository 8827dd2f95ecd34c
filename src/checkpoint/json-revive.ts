// Decoding the json codec's text form (json-tags.ts): plain JSON as JSON.parse reads it, tags
// back to the values they stand for, escaped keys unescaped, every `__proto__` key dropped. Pure.
import { TAG } from './json-tags.js';

const TAG_TEXT = /\$sf|__proto__|\\u/;
// Stands for `undefined` until its holder is revived: a reviver returning undefined deletes.
const UNDEFINED = Object.freeze({ [TAG]: 'undefined' });
const DOLLAR = 36;

/** The value of JSON text written by {@link toJsonText}, or by plain `JSON.stringify`; every `__proto__` key is dropped. */
export function fromJsonText(text: string): unknown {
  // Only tags, escaped keys, `__proto__` keys and \u escapes (which could spell any of them) need the reviver.
  if (!TAG_TEXT.test(text)) return JSON.parse(text);
  const value: unknown = JSON.parse(text, revive);
  return value === UNDEFINED ? undefined : value;
}

const ESCAPED_KEY = /^\$\$+sf$/;

/** JSON.parse reviver: members first, then their holder. */
function revive(key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    // Not `undefined` from the reviver for an undefined item: JSON.parse would leave a hole.
    for (let i = 0; i < value.length; i++) if (value[i] === UNDEFINED) value[i] = undefined;
    return value;
  }
  if (Object.hasOwn(value, TAG)) return untag(value as Record<string, unknown>);
  let escaped = false;
  for (const member in value) {
    if ((value as Record<string, unknown>)[member] === UNDEFINED) (value as Record<string, unknown>)[member] = undefined;
    if (member.charCodeAt(0) === DOLLAR && ESCAPED_KEY.test(member)) escaped = true;
  }
  if (!escaped) return value;
  const out: Record<string, unknown> = {};
  for (const [member, v] of Object.entries(value)) out[ESCAPED_KEY.test(member) ? member.slice(1) : member] = v;
  return out;
}

const DIGITS = /^-?\d+$/;
const SPECIAL_NUMBERS: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-0': -0 };

function untag(tag: Record<string, unknown>): unknown {
  const kind = tag[TAG];
  for (const member of Object.keys(tag)) if (member !== TAG && member !== 'v') throw new Error(`malformed ${String(kind)} tag: unexpected member ${JSON.stringify(member)}`);
  const v = tag.v;
  switch (kind) {
    case 'Map':
      if (!Array.isArray(v) || !v.every((entry) => Array.isArray(entry) && entry.length === 2)) throw new Error('malformed Map tag: v must be an array of [key, value] pairs');
      return new Map(v as Array<[unknown, unknown]>);
    case 'Set':
      if (!Array.isArray(v)) throw new Error('malformed Set tag: v must be an array');
      return new Set(v);
    case 'Date': {
      if (v === null) return new Date(Number.NaN);
      const date = typeof v === 'string' ? new Date(v) : undefined;
      if (date === undefined || Number.isNaN(date.getTime())) throw new Error('malformed Date tag: v must be an ISO date or null');
      return date;
    }
    case 'BigInt':
      if (typeof v !== 'string' || !DIGITS.test(v)) throw new Error('malformed BigInt tag: v must be a string of digits');
      return BigInt(v);
    case 'Number':
      if (typeof v !== 'string' || !Object.hasOwn(SPECIAL_NUMBERS, v)) throw new Error('malformed Number tag: v must be "NaN", "Infinity", "-Infinity" or "-0"');
      return SPECIAL_NUMBERS[v];
    case 'undefined':
      if ('v' in tag) throw new Error('malformed undefined tag: it has no v');
      return UNDEFINED;
    default:
      throw new Error(`unknown tag ${JSON.stringify(kind)}`);
  }
}
