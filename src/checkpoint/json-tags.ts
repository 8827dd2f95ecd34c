// The json codec's text form: plain JSON for plain data, and a tagged form for the values JSON
// would change. Pure: no I/O. Format and guarantees: docs/checkpoint-store.md "The json codec".
//
// A tag is an object with the own key "$sf": {"$sf":"Map","v":[[k,v],…]}, {"$sf":"Set","v":[…]},
// {"$sf":"Date","v":"<ISO>"|null}, {"$sf":"BigInt","v":"<digits>"}, {"$sf":"Number","v":"NaN"}
// (or "Infinity", "-Infinity", "-0"), {"$sf":"undefined"}. A user key made of one or more "$"
// then "sf" ("$sf", "$$sf", …) is written with one "$" more, so that only tags ever hold "$sf" and
// user data cannot pass for a tag. Decoding: json-revive.ts.

/** What the json codec could not keep as it was; `event`: a dead letter's whole event could not be read. */
export type CodecLossKind = 'function' | 'symbol' | 'instance' | 'cycle' | 'key' | 'event';

/** One part of a value the json codec dropped, flattened or replaced. */
export interface CodecLoss {
  kind: CodecLossKind;
  /** Where, from the encoded value: `state.value.items[3].cb`, `event.m.get("k")`. */
  path: string;
  /** What happened to it, in words. */
  detail: string;
}

/** How the json codec treats what it cannot encode. */
export interface JsonEncodeOptions {
  /** Called for each part that is dropped, flattened or replaced (see {@link CodecLoss}). */
  onLoss?: (loss: CodecLoss) => void;
  /**
   * Replace functions, symbols and circular references by `{ "$unencodable": kind, "path": … }`
   * instead of dropping them (functions, symbols) or failing (cycles). For dead letters.
   */
  placeholders?: boolean;
}

/** Thrown for a value the json codec cannot encode: a circular reference without `placeholders`. */
export class JsonEncodeError extends Error {}

/** The key that makes an object a tag. */
export const TAG = '$sf';
const ESCAPED_TAG_KEY = /^\$+sf$/;
const UNDEFINED = Object.freeze({ [TAG]: 'undefined' });
const OBJECT_PROTOTYPE = Object.prototype;
const DOLLAR = 36;

/** The JSON text of `value`: plain JSON when `JSON.stringify` would keep it as it is, the tagged form otherwise. */
export function toJsonText(value: unknown, options: JsonEncodeOptions = {}): string {
  if (isPlain(value)) return JSON.stringify(value);
  return JSON.stringify(new Converter(options).top(value));
}

/**
 * True when JSON.stringify keeps `value` as it is: plain objects and arrays of strings, finite
 * numbers, booleans and null, with no key that needs escaping or dropping. The hot path: one walk
 * with no allocation. A cycle overflows the stack here, and the converter then reports it.
 */
function isPlain(value: unknown): boolean {
  if (typeof value !== 'object') return isPlainLeaf(value);
  if (value === null) return true;
  try {
    return isPlainTree(value);
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

function isPlainLeaf(value: unknown): boolean {
  const type = typeof value;
  if (type === 'number') return isPlainNumber(value as number);
  return type === 'string' || type === 'boolean';
}

/** Finite and not -0: a number JSON keeps. (`n - n` is NaN for NaN and ±Infinity.) */
function isPlainNumber(n: number): boolean {
  return n - n === 0 && (n !== 0 || 1 / n > 0);
}

function isPlainTree(value: object): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const type = typeof item;
      if (type === 'string' || type === 'boolean') continue;
      if (type === 'number') {
        if (!isPlainNumber(item as number)) return false;
        continue;
      }
      if (type !== 'object' || (item !== null && !isPlainTree(item as object))) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== OBJECT_PROTOTYPE && proto !== null) return false;
  for (const key in value) {
    if (key.charCodeAt(0) === DOLLAR || key === '__proto__') return false;
    const member: unknown = (value as Record<string, unknown>)[key];
    const type = typeof member;
    // `undefined` members are left out, as JSON leaves them out: nothing to tell.
    if (type === 'string' || type === 'boolean' || type === 'undefined') continue;
    if (type === 'number') {
      if (!isPlainNumber(member as number)) return false;
      continue;
    }
    if (type !== 'object' || (member !== null && !isPlainTree(member as object))) return false;
  }
  return true;
}

// Left out of an object (JSON semantics for functions, symbols and undefined members).
const SKIP = Symbol('skip');
type Segment = string | number | { map: number; key: unknown; part: 'key' | 'value' } | { set: number };

/** Builds the JSON-safe tree of a value that is not plain: tags, escaped keys, and losses reported. */
class Converter {
  private readonly path: Segment[] = [];
  private readonly ancestors = new Set<object>();

  constructor(private readonly options: JsonEncodeOptions) {}

  top(value: unknown): unknown {
    return this.convert(value, '', false);
  }

  /** `inObject`: `value` is an object member, where JSON leaves out what it cannot show. */
  private convert(value: unknown, key: string, inObject: boolean, afterToJson = false): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return isPlainNumber(value) ? value : { [TAG]: 'Number', v: Object.is(value, -0) ? '-0' : String(value) };
      case 'bigint':
        return { [TAG]: 'BigInt', v: value.toString() };
      case 'undefined':
        return inObject ? SKIP : UNDEFINED;
      case 'function':
        return this.unencodable('function', `function ${value.name === '' ? '(anonymous)' : value.name} ${this.options.placeholders === true ? 'replaced by a placeholder' : 'left out'}`, inObject);
      case 'symbol':
        return this.unencodable('symbol', `${value.toString()} ${this.options.placeholders === true ? 'replaced by a placeholder' : 'left out'}`, inObject);
      default:
        return value === null ? null : this.object(value as object, key, inObject, afterToJson);
    }
  }

  private object(value: object, key: string, inObject: boolean, afterToJson: boolean): unknown {
    if (value instanceof Date) return { [TAG]: 'Date', v: Number.isNaN(value.getTime()) ? null : value.toISOString() };
    // As JSON.stringify does: toJSON() first (once), boxed primitives unboxed.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && !afterToJson) {
      if (!isPlainObject(value)) this.lose('instance', `${className(value)} encoded through its toJSON(): decoded as what that returned`);
      return this.convert(toJSON.call(value, key), key, inObject, true);
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) return this.convert(value.valueOf(), key, inObject);
    if (this.ancestors.has(value)) {
      if (this.options.placeholders !== true) throw new JsonEncodeError(`circular reference at ${this.where()}`);
      return this.unencodable('cycle', 'circular reference replaced by a placeholder', inObject);
    }
    this.ancestors.add(value);
    try {
      if (Array.isArray(value)) return this.array(value);
      if (value instanceof Map) return this.map(value);
      if (value instanceof Set) return this.set(value);
      if (!isPlainObject(value)) this.lose('instance', `${className(value)} encoded as a plain object of its own enumerable members: its prototype is not kept`);
      return this.members(value as Record<string, unknown>);
    } finally {
      this.ancestors.delete(value);
    }
  }

  private array(value: readonly unknown[]): unknown[] {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      this.path.push(i);
      const item = this.convert(value[i], String(i), false);
      this.path.pop();
      out[i] = item === SKIP ? null : item;
    }
    return out;
  }

  private map(value: Map<unknown, unknown>): unknown {
    const entries: unknown[] = [];
    let i = 0;
    for (const [k, v] of value) {
      this.path.push({ map: i, key: k, part: 'key' });
      const key = this.convert(k, '', false);
      this.path[this.path.length - 1] = { map: i, key: k, part: 'value' };
      const item = this.convert(v, '', false);
      this.path.pop();
      entries.push([key === SKIP ? null : key, item === SKIP ? null : item]);
      i++;
    }
    return { [TAG]: 'Map', v: entries };
  }

  private set(value: Set<unknown>): unknown {
    const items: unknown[] = [];
    let i = 0;
    for (const v of value) {
      this.path.push({ set: i++ });
      const item = this.convert(v, '', false);
      this.path.pop();
      items.push(item === SKIP ? null : item);
    }
    return { [TAG]: 'Set', v: items };
  }

  private members(value: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        this.path.push(key);
        this.lose('key', 'a "__proto__" key is never kept: left out');
        this.path.pop();
        continue;
      }
      this.path.push(key);
      const member = this.convert(value[key], key, true);
      this.path.pop();
      if (member === SKIP) continue;
      out[key.charCodeAt(0) === DOLLAR && ESCAPED_TAG_KEY.test(key) ? `$${key}` : key] = member;
    }
    return out;
  }

  private unencodable(kind: CodecLossKind, detail: string, inObject: boolean): unknown {
    const path = this.lose(kind, detail);
    if (this.options.placeholders === true) return { $unencodable: kind, path };
    return inObject ? SKIP : null;
  }

  private lose(kind: CodecLossKind, detail: string): string {
    const path = this.where();
    this.options.onLoss?.({ kind, path, detail });
    return path;
  }

  private where(): string {
    return formatPath(this.path);
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function formatPath(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string') text += IDENTIFIER.test(segment) ? (text === '' ? segment : `.${segment}`) : `[${JSON.stringify(segment)}]`;
    else if ('set' in segment) text += `.values()[${segment.set}]`;
    else if (segment.part === 'key') text += `.keys()[${segment.map}]`;
    else text += typeof segment.key === 'string' || typeof segment.key === 'number' ? `.get(${JSON.stringify(segment.key)})` : `.values()[${segment.map}]`;
  }
  return text === '' ? '(the value itself)' : text;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === OBJECT_PROTOTYPE || proto === null;
}

function className(value: object): string {
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a prototype';
}
