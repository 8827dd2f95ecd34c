/** A bounded least-recently-used map from event keys to the outputs last produced for them (a stage's `cache` degraded mode). */
export class LruCache {
  private readonly entries = new Map<unknown, readonly unknown[]>();

  constructor(
    private readonly size: number,
    /** The key of an event. */
    readonly keyOf: (event: unknown) => unknown,
  ) {}

  /** The outputs cached for `key` (refreshing it), or undefined. */
  get(key: unknown): readonly unknown[] | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Remembers the outputs for `key`; the least recently used entry goes when the cache is full. */
  set(key: unknown, outputs: readonly unknown[]): void {
    this.entries.delete(key);
    this.entries.set(key, outputs);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value);
  }

  get length(): number {
    return this.entries.size;
  }
}
