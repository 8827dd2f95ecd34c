// A checkpoint store backend in memory: a sorted map of the same sealed bytes a LevelDB store
// holds, so that everything but durability and locking behaves, and can be tested, alike.
import type { KvBackend, KvOp, KvRange } from './kv.js';
import type { RawEntry } from './types.js';

/** Compares strings as LevelDB compares their UTF-8 bytes (code point order, not UTF-16 order). */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Surrogates (U+D800-DFFF) stand for code points above U+FFFF: rank them above U+E000-FFFF.
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** A backend holding everything in a sorted in-process map; gone when the store closes. */
export class MemoryBackend implements KvBackend {
  readonly kind = 'memory';
  readonly location = 'memory';
  readonly #values = new Map<string, Uint8Array>();
  #sorted: string[] = [];

  async open(): Promise<void> {}

  async close(): Promise<void> {
    this.#values.clear();
    this.#sorted = [];
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = this.#values.get(key);
    return value === undefined ? undefined : value.slice();
  }

  async write(ops: readonly KvOp[], _sync: boolean): Promise<void> {
    for (const op of ops) {
      const present = this.#values.has(op.key);
      if (op.type === 'put') {
        this.#values.set(op.key, op.value.slice());
        if (!present) this.#sorted.splice(this.#lowerBound(op.key), 0, op.key);
      } else if (present) {
        this.#values.delete(op.key);
        this.#sorted.splice(this.#lowerBound(op.key), 1);
      }
    }
  }

  async *entries(range: KvRange): AsyncGenerator<RawEntry> {
    const pairs = this.#range(range).map((key) => ({ key, value: this.#values.get(key) as Uint8Array }));
    for (const { key, value } of pairs) yield { key, value: value.slice() };
  }

  async *keys(range: KvRange): AsyncGenerator<string> {
    yield* this.#range(range);
  }

  #range({ gte, lt, reverse }: KvRange): string[] {
    const from = gte === undefined ? 0 : this.#lowerBound(gte);
    const to = lt === undefined ? this.#sorted.length : this.#lowerBound(lt);
    const keys = this.#sorted.slice(from, Math.max(from, to));
    return reverse === true ? keys.reverse() : keys;
  }

  /** Index of the first key >= `key`. */
  #lowerBound(key: string): number {
    let low = 0;
    let high = this.#sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareUtf8(this.#sorted[mid] as string, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
