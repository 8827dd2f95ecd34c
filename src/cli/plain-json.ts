/**
 * A value as JSON can show it: BigInts as `"<digits>n"`, Maps as arrays of `[key, value]`, Sets and
 * typed arrays as arrays, dates as ISO strings, and a reference back to an enclosing object as
 * `"[Circular]"` (v8-decoded states may hold any of these).
 */
export function toPlain(value: unknown, ancestors: readonly object[] = []): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) return '[Circular]';
  const within = [...ancestors, value];
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Map) return [...value].map(([k, v]) => [toPlain(k, within), toPlain(v, within)]);
  if (value instanceof Set) return [...value].map((item) => toPlain(item, within));
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, (item) => toPlain(item, within));
  if (Array.isArray(value)) return value.map((item) => toPlain(item, within));
  const plain: Record<string, unknown> = {};
  // defineProperty, not assignment: a decoded "__proto__" key must stay a plain member
  for (const [key, member] of Object.entries(value)) Object.defineProperty(plain, key, { value: toPlain(member, within), enumerable: true, writable: true, configurable: true });
  return plain;
}

const UNESCAPED = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * `JSON.stringify(value, null, indent)` safe for a terminal: the controls JSON leaves as they are
 * (DEL, C1, U+2028, U+2029; C0 it escapes itself) are written as `\uXXXX` escapes, which JSON reads back the same.
 */
export function jsonText(value: unknown, indent = 2): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
