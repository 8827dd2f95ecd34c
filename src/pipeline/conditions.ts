/**
 * Conditions someone waits for on a node (a reshape waiting for it to drain or settle), checked
 * when the node says something changed: no polling, and nothing to do while nobody waits.
 */
export class Conditions {
  private readonly waiting: Array<{ check: () => boolean; resolve: () => void }> = [];

  get size(): number {
    return this.waiting.length;
  }

  /** Resolves once `check()` holds (at once if it does). */
  when(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ check, resolve }));
  }

  /** Resolves the conditions that hold now. */
  check(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const condition = this.waiting[i] as { check: () => boolean; resolve: () => void };
      if (!condition.check()) continue;
      this.waiting.splice(i, 1);
      condition.resolve();
    }
  }
}
