import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { ConfigError, StageCallError, messageOf } from '../core/errors.js';
import { LossWarnings } from './loss-warnings.js';
import type { CheckpointStore, DeadLetter, StoredDeadLetter } from './types.js';

/** Where a replayed dead letter goes: the mailbox of the stage instance it failed in; false when that stage is not running. */
export type DeadLetterInjector = (stage: string, event: unknown, offset: number) => boolean | Promise<boolean>;

/** What became of the dead letters recorded in this run (see {@link DeadLetterBox.counts}). */
export interface DeadLetterCounts {
  /** Letters stored: `pipeline.deadLetters()` lists them. */
  stored: number;
  /** Of the stored ones, letters whose event lost parts the codec cannot encode (replaced by placeholders, or flattened). */
  altered: number;
  /** Letters the store refused (it failed or was closed): logged, reported as DEAD_LETTER_NOT_STORED, not listed. */
  notStored: number;
  /** Letters whose write has not settled yet. */
  pending: number;
}

/**
 * A pipeline's dead letters: every event that exhausted its retries or met a stage in
 * `deadLetter` mode is stored (`dlq!<pipeline>!<stage>!<offset>`), listed, and replayed into the
 * stage it failed in. With checkpoints a replayed letter is deleted once a checkpoint covering it
 * has completed, so that a crash in between neither loses it nor applies it twice.
 */
export class DeadLetterBox {
  private writes = new Set<Promise<unknown>>();
  /** Letters recorded and not yet handed to the store: written together, one batch per turn of the event loop. */
  private queued: DeadLetter[] = [];
  private inStore = 0;
  /** Replayed letters to delete once a checkpoint begun after their injection (a version above `after`) completes. */
  private replayed: Array<{ key: string; after: number }> = [];
  private readonly tally = { stored: 0, altered: 0, notStored: 0 };
  private readonly losses: LossWarnings;

  constructor(
    private readonly store: CheckpointStore,
    private readonly pipeline: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    /** True when checkpoints complete on this store: deletions wait for them. */
    private readonly checkpointed: boolean,
    /** Told of each letter that could not be stored (a DEAD_LETTER_NOT_STORED error holding its event). */
    private readonly onNotStored?: (error: StageCallError) => void,
  ) {
    this.losses = new LossWarnings(log, (stage) => `a dead letter of stage "${stage}"`);
  }

  /** What became of the letters recorded so far. */
  counts(): DeadLetterCounts {
    return { ...this.tally, pending: this.queued.length + this.inStore };
  }

  /** Stores the events of a DEAD_LETTER report, one letter per event. */
  record(error: StageCallError): void {
    const failure = error.cause ?? error;
    const attempts = attemptsOf(failure);
    for (let i = 0; i < error.events.length; i++) {
      const letter: DeadLetter = {
        pipeline: this.pipeline,
        stage: error.stage,
        offset: error.offsets[i] ?? -1,
        event: error.events[i],
        error: describeError(failure),
        attempts,
        at: this.clock.now(),
      };
      if (this.queued.push(letter) === 1) this.track(new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeQueued()));
    }
  }

  /** Writes the letters queued since the last batch, in one batch (one store write, however many letters a burst of failures made). */
  private async writeQueued(): Promise<void> {
    const letters = this.queued;
    this.queued = [];
    this.inStore += letters.length;
    try {
      const receipts = await this.store.putDeadLetters(letters);
      receipts.forEach((receipt, i) => {
        const letter = letters[i] as DeadLetter;
        this.tally.stored++;
        if (this.losses.note(letter.stage, receipt.losses, { stage: letter.stage, offset: letter.offset, key: receipt.key })) this.tally.altered++;
      });
    } catch (writeError) {
      for (const letter of letters) this.notStored(letter, writeError);
    } finally {
      this.inStore -= letters.length;
    }
  }

  private track(write: Promise<unknown>): void {
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  private notStored(letter: DeadLetter, writeError: unknown): void {
    this.tally.notStored++;
    const message = `dead letter of stage "${letter.stage}" at offset ${letter.offset} not stored: ${messageOf(writeError)}`;
    this.log.error({ err: writeError, stage: letter.stage, offset: letter.offset }, message);
    if (this.onNotStored === undefined) return;
    const error = new StageCallError('DEAD_LETTER_NOT_STORED', letter.stage, message, { offsets: [letter.offset], events: [letter.event] }, writeError);
    try {
      this.onNotStored(error);
    } catch (hookError) {
      this.log.error({ err: hookError }, `onNotStored threw: ${messageOf(hookError)}`);
    }
  }

  /** Resolves once every letter recorded so far is stored (or its failure logged). */
  async flushed(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** The stored letters of this pipeline, oldest offset first per stage; unreadable ones are logged and left out. */
  async list(): Promise<StoredDeadLetter[]> {
    await this.flushed();
    const letters: StoredDeadLetter[] = [];
    for (const read of await this.store.deadLetters(this.pipeline)) {
      if (read.ok) letters.push(read.value);
      else this.log.error({ key: read.key, reason: read.reason }, `unreadable dead letter skipped: ${read.key}`);
    }
    return letters;
  }

  /**
   * Puts letters back into the stage instances they failed in (all of this pipeline's, or those
   * given, by letter or key), one after another as `inject` takes them; resolves with how many went
   * back. A letter whose stage no longer runs stays stored. With checkpoints a letter is deleted
   * only once a checkpoint whose barrier came after it (a version above `version()` at its
   * injection) has completed: that checkpoint's snapshot holds its effect.
   */
  async replay(inject: DeadLetterInjector, which?: ReadonlyArray<StoredDeadLetter | string>, version: () => number = () => 0): Promise<number> {
    const all = await this.list();
    let chosen = all;
    if (which !== undefined) {
      if (!Array.isArray(which)) throw new ConfigError('replay(letters)', which, 'must be an array of dead letters or their keys');
      const keys = new Set(which.map((w) => (typeof w === 'string' ? w : w.key)));
      chosen = all.filter((letter) => keys.has(letter.key));
    }
    const done: string[] = [];
    for (const letter of chosen) {
      if (await inject(letter.stage, letter.event, letter.offset)) {
        done.push(letter.key);
        if (this.checkpointed) this.replayed.push({ key: letter.key, after: version() });
      } else this.log.warn({ stage: letter.stage, key: letter.key }, `dead letter not replayed: stage "${letter.stage}" is not running`);
    }
    if (!this.checkpointed) await this.store.deleteKeys(done);
    return done.length;
  }

  /** The letters marked for replay (`steadfast dlq replay`), to re-inject at start. */
  async marked(): Promise<StoredDeadLetter[]> {
    return (await this.list()).filter((letter) => letter.replay === true);
  }

  /** Checkpoint `version` completed: the letters replayed before its barrier are covered by it and deleted. */
  async checkpointCompleted(version: number): Promise<void> {
    if (this.replayed.length === 0) return;
    const keys = this.replayed.filter((r) => r.after < version).map((r) => r.key);
    if (keys.length === 0) return;
    this.replayed = this.replayed.filter((r) => r.after >= version);
    try {
      await this.store.deleteKeys(keys);
    } catch (error) {
      this.log.error({ err: error }, `replayed dead letters not deleted: ${messageOf(error)}`);
    }
  }
}

function attemptsOf(error: unknown): number {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const attempts = (e as { attempts?: unknown }).attempts;
    if (typeof attempts === 'number') return attempts;
  }
  return 1;
}

function describeError(error: unknown): DeadLetter['error'] {
  const e = error as { name?: unknown; code?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    code: typeof e?.code === 'string' ? e.code : undefined,
    message: messageOf(error),
  };
}
