// The completed checkpoints a pipeline keeps (`keep`): what is older is pruned with the next write.

/** Completed checkpoint versions, oldest first, and the floor below which older ones are pruned. */
export class KeptVersions {
  private readonly versions: number[] = [];

  constructor(private readonly keep: number) {}

  /** A checkpoint completed (or was restored): its version is the newest. */
  push(version: number): void {
    this.versions.push(version);
  }

  /** Takes back the newest version (its completed marker could not be written). */
  pop(): void {
    this.versions.pop();
  }

  /** Snapshots and markers below this version are pruned: the oldest of the newest `keep` completed ones (0: none). */
  floor(): number {
    const kept = this.versions;
    return kept.length >= this.keep ? (kept[kept.length - this.keep] as number) : 0;
  }
}
