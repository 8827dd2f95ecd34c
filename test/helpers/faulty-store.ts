import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { CheckpointStore, Snapshot, WriteOptions, WriteReceipt } from '../../src/checkpoint/types.js';
import { CheckpointStoreError } from '../../src/core/errors.js';

/**
 * A memory store whose snapshot writes can be held back (`hold`) and made to fail for chosen
 * versions (`failFrom`), as a full disk or an unencodable state would.
 */
export function faultyStore() {
  const inner = createCheckpointStore({ kind: 'memory' });
  let gate: Promise<void> | undefined;
  let release = (): void => {};
  const control = {
    failFrom: Number.POSITIVE_INFINITY,
    writes: [] as number[],
    hold(): void {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    release(): void {
      gate = undefined;
      release();
    },
  };
  const store: CheckpointStore = {
    kind: inner.kind,
    location: inner.location,
    codec: inner.codec,
    get isOpen() {
      return inner.isOpen;
    },
    open: () => inner.open(),
    close: () => inner.close(),
    async writeSnapshot(snapshot: Snapshot, options?: WriteOptions): Promise<WriteReceipt> {
      control.writes.push(snapshot.version);
      if (gate !== undefined) await gate;
      if (snapshot.version >= control.failFrom) throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', 'memory', `ENOSPC: no space left on device (version ${snapshot.version})`);
      return inner.writeSnapshot(snapshot, options);
    },
    snapshots: (p, s) => inner.snapshots(p, s),
    readSnapshot: (p, s, v) => inner.readSnapshot(p, s, v),
    completeCheckpoint: (d, o) => inner.completeCheckpoint(d, o),
    completed: (p) => inner.completed(p),
    putDeadLetter: (l, o) => inner.putDeadLetter(l, o),
    putDeadLetters: (l, o) => inner.putDeadLetters(l, o),
    deadLetters: (p) => inner.deadLetters(p),
    markForReplay: (k) => inner.markForReplay(k),
    deleteKeys: (k, o) => inner.deleteKeys(k, o),
    pipelines: () => inner.pipelines(),
    entries: (p) => inner.entries(p),
    appendJournal: (p, e, o, w) => inner.appendJournal(p, e, o, w),
    journal: (p) => inner.journal(p),
    pruneJournal: (p, t, w) => inner.pruneJournal(p, t, w),
    putRaw: (k, v) => inner.putRaw(k, v),
  };
  return { store, control };
}

