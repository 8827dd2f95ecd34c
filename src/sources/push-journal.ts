// The journal that makes a push source replayable under checkpoints: every pushed event is written
// to the checkpoint store before the pipeline takes it, read back after a crash, and deleted once
// a completed checkpoint covers it.
import type { Logger } from 'pino';
import type { CheckpointStore } from '../checkpoint/types.js';
import { messageOf } from '../core/errors.js';

/** What a push source needs of its journal. */
export interface PushJournal {
  /**
   * The journalled events at or after `fromOffset` (to deliver again, in order), and the offset the
   * next pushed event gets: after every journalled one, never before `fromOffset`.
   */
  open(fromOffset: number): Promise<{ values: unknown[]; offsets: number[]; nextOffset: number }>;
  /** Stores events durably (as the checkpoint's `sync` says); rejects when they are not stored. */
  append(values: readonly unknown[], offsets: readonly number[]): Promise<void>;
}

/** What a journal reports: corrupt entries it skipped. */
export interface PushJournalHooks {
  log: Logger;
  corrupt(key: string, reason: string): void;
}

/** A pipeline's push journal on its checkpoint store (which the pipeline has opened). */
export class StorePushJournal implements PushJournal {
  constructor(
    private readonly store: CheckpointStore,
    private readonly pipeline: string,
    /** fsync every append (`sync: 'always'`); otherwise the journal reaches the disk with the next checkpoint marker. */
    private readonly sync: boolean,
    private readonly hooks: PushJournalHooks,
  ) {}

  async open(fromOffset: number): Promise<{ values: unknown[]; offsets: number[]; nextOffset: number }> {
    const values: unknown[] = [];
    const offsets: number[] = [];
    let last = -1;
    let covered = false;
    for await (const read of this.store.journal(this.pipeline)) {
      if (!read.ok) {
        this.hooks.corrupt(read.key, read.reason);
        continue;
      }
      const { offset: first, events } = read.value;
      for (let i = 0; i < events.length; i++) {
        const offset = first + i;
        last = Math.max(last, offset);
        if (offset < fromOffset) covered = true;
        else {
          values.push(events[i]);
          offsets.push(offset);
        }
      }
    }
    // Entries a checkpoint covered but whose deletion did not happen (a crash in between).
    if (covered) await this.prune(fromOffset - 1);
    if (values.length > 0) this.hooks.log.info({ events: values.length, from: offsets[0], to: offsets[offsets.length - 1] }, `push source: ${values.length} journalled events after the checkpoint are delivered again`);
    return { values, offsets, nextOffset: Math.max(fromOffset, last + 1) };
  }

  append(values: readonly unknown[], offsets: readonly number[]): Promise<void> {
    return this.store.appendJournal(this.pipeline, values, offsets, { sync: this.sync });
  }

  /** Deletes what a completed checkpoint covers (offsets up to `throughOffset`); a failure is logged, the entries are deleted next time. */
  async prune(throughOffset: number): Promise<void> {
    if (throughOffset < 0) return;
    try {
      await this.store.pruneJournal(this.pipeline, throughOffset);
    } catch (error) {
      this.hooks.log.warn({ err: error }, `push journal not pruned through offset ${throughOffset}: ${messageOf(error)}`);
    }
  }
}
