// One checkpoint writer (the runtime of the checkpoint machine) per stage instance of a pipeline.
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { createCheckpointWriter, type CheckpointWriter, type CheckpointWriterSync } from '../checkpoint/writer.js';

/** What every writer of a pipeline shares. */
export interface StageWritersOptions {
  store: CheckpointStore;
  pipeline: string;
  sync: CheckpointWriterSync;
  log: Logger;
  clock: Clock;
}

/** The checkpoint writers of a pipeline's stage instances, made on first use and closed together. */
export class StageWriters {
  private readonly writers = new Map<string, CheckpointWriter>();

  constructor(private readonly options: StageWritersOptions) {}

  /** The writer of stage instance `stage` (made now if it has none yet). */
  of(stage: string): CheckpointWriter {
    let writer = this.writers.get(stage);
    if (writer === undefined) {
      const { store, pipeline, sync, log, clock } = this.options;
      writer = createCheckpointWriter({ store, pipeline, stage, sync, logger: log, clock });
      this.writers.set(stage, writer);
    }
    return writer;
  }

  /** Closes every writer (each after the writes it has queued); never rejects. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.writers.values()].map((w) => w.close()));
  }
}
