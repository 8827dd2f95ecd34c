// Where each dead letter goes: `dlq!…!<offset>`, or `~<n>` after it when that offset already has
// a letter. What a store wrote while open is remembered (it holds the lock: nobody else writes).
import { deadLetterKey, deadLetterPrefix, parseKey, prefixEnd } from '../core/keys.js';
import type { KvBackend } from './kv.js';
import type { DeadLetter } from './types.js';

/** The free dead-letter keys of one store opening, found with as few reads as it can. */
export class DeadLetterKeys {
  readonly #backend: KvBackend;
  /** The highest `~<n>` suffix of each dead-letter offset known to be taken (0: the plain key). */
  readonly #suffix = new Map<string, number>();
  /** Per stage instance, the highest offset with a dead letter when first looked up in this opening. */
  readonly #ceilings = new Map<string, Promise<number>>();

  constructor(backend: KvBackend) {
    this.#backend = backend;
  }

  /** Forgets what it knew (the store opens again: another process may have written meanwhile). */
  forget(): void {
    this.#suffix.clear();
    this.#ceilings.clear();
  }

  /**
   * A free key for each letter, taken (a later call gets the next one): `dlq!…!<offset>`, or with
   * the next `~<n>` when that offset already has a letter. An offset not seen in this opening is
   * looked up, all of a batch's at once.
   */
  async take(letters: readonly DeadLetter[]): Promise<string[]> {
    const bases = letters.map((letter) => deadLetterKey(letter.pipeline, letter.stage, letter.offset));
    // Offsets above the highest one stored when this store opened cannot be taken by an earlier run.
    const ceilings = await Promise.all(letters.map((letter) => this.#ceiling(letter.pipeline, letter.stage)));
    const unknown = [...new Set(bases.filter((base, i) => !this.#suffix.has(base) && (letters[i] as DeadLetter).offset <= (ceilings[i] as number)))];
    const found = await Promise.all(unknown.map((base) => this.#highestSuffix(base)));
    unknown.forEach((base, i) => {
      const highest = found[i] as number;
      if (highest >= 0) this.#suffix.set(base, highest);
    });
    return letters.map((letter, i) => {
      const base = bases[i] as string;
      const taken = this.#suffix.get(base);
      const suffix = taken === undefined ? 0 : taken + 1;
      this.#suffix.set(base, suffix);
      return suffix === 0 ? base : deadLetterKey(letter.pipeline, letter.stage, letter.offset, suffix);
    });
  }

  /** The highest offset with a dead letter of this stage instance when it was first asked for in this opening (-1: none). */
  async #ceiling(pipeline: string, stage: string): Promise<number> {
    const prefix = deadLetterPrefix(pipeline, stage);
    let known = this.#ceilings.get(prefix);
    if (known === undefined) {
      known = (async () => {
        for await (const key of this.#backend.keys({ gte: prefix, lt: prefixEnd(prefix), reverse: true })) {
          const parsed = parseKey(key);
          if (parsed?.kind === 'dlq') return parsed.offset;
        }
        return -1;
      })();
      this.#ceilings.set(prefix, known);
    }
    return known;
  }

  /** The highest suffix stored for a dead-letter base key (0: the base itself), or -1 when there is none. */
  async #highestSuffix(base: string): Promise<number> {
    if ((await this.#backend.get(base)) === undefined) return -1;
    let highest = 0;
    for await (const key of this.#backend.keys({ gte: `${base}~`, lt: `${base}\u007f` })) {
      const parsed = parseKey(key);
      if (parsed?.kind === 'dlq') highest = Math.max(highest, parsed.suffix);
    }
    return highest;
  }
}
