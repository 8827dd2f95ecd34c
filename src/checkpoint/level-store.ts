// A checkpoint store backend on LevelDB (classic-level, through the `level` package).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { CheckpointStoreError, messageOf } from '../core/errors.js';
import { ensureDir } from '../sinks/ensure-dir.js';
import type { KvBackend, KvIntegrity, KvOp, KvRange } from './kv.js';
import { readOpenDamage, readWitness, repairLevel, writeWitness, type WitnessEntry, type WitnessRead } from './level-integrity.js';
import type { RawEntry } from './types.js';

/** How a LevelDB backend opens its directory. */
export interface LevelBackendOptions {
  /** Create the directory and database when missing (else CHECKPOINT_STORE_MISSING). */
  createIfMissing: boolean;
}

/** A backend on a LevelDB directory; one open instance per directory across processes (LevelDB's LOCK file). */
export class LevelBackend implements KvBackend, KvIntegrity {
  readonly kind = 'level';
  readonly location: string;
  readonly #createIfMissing: boolean;
  #db: Level<string, Uint8Array> | undefined;
  #openDamage: string[] = [];
  #witness: WitnessRead = { pipelines: {} };
  #witnessWrites: Promise<void> = Promise.resolve();

  /** `dir` must be absolute. */
  constructor(dir: string, options: LevelBackendOptions) {
    this.location = dir;
    this.#createIfMissing = options.createIfMissing;
  }

  async open(): Promise<void> {
    if (this.#createIfMissing) await this.#ensureDir();
    else await this.#expectDatabase();
    // Created here, not earlier: a Level instance opens itself on the next tick after construction.
    const db = new Level<string, Uint8Array>(this.location, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: this.#createIfMissing });
    try {
      await db.open();
    } catch (error) {
      if (hasCode(error, 'LEVEL_LOCKED')) {
        throw new CheckpointStoreError('CHECKPOINT_STORE_LOCKED', this.location, `checkpoint store at ${this.location} is locked: another process (or store) has it open`, error);
      }
      if (isDamage(error)) throw this.#corrupt(error);
      throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, `checkpoint store at ${this.location} failed to open: ${deepMessage(error)}`, error);
    }
    this.#db = db;
    // Read now: LevelDB starts a new LOG at every open, so what this open dropped is only there until the next.
    this.#openDamage = await readOpenDamage(this.location);
    this.#witness = await readWitness(this.location);
  }

  openDamage(): readonly string[] {
    return this.#openDamage;
  }

  witness(): WitnessRead {
    return this.#witness;
  }

  recordWitness(pipeline: string, entry: WitnessEntry): Promise<void> {
    const pipelines = { ...this.#witness.pipelines, [pipeline]: entry };
    this.#witness = { pipelines };
    // One after another, so that the file ends as the newest call left it.
    this.#witnessWrites = this.#witnessWrites.then(() => writeWitness(this.location, pipelines));
    return this.#witnessWrites;
  }

  async repair(): Promise<string[]> {
    if (this.#db !== undefined) throw new Error('the LevelDB backend must be closed to be repaired');
    return repairLevel(this.location);
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    await db?.close();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return (await this.#open().get(key)) ?? undefined;
    } catch (error) {
      throw this.#typed(error);
    }
  }

  async write(ops: readonly KvOp[], sync: boolean): Promise<void> {
    if (ops.length === 0) return;
    try {
      await this.#open().batch(ops.map((op) => ({ ...op })), { sync });
    } catch (error) {
      throw this.#typed(error);
    }
  }

  async *entries(range: KvRange): AsyncGenerator<RawEntry> {
    try {
      for await (const [key, value] of this.#open().iterator(levelRange(range))) yield { key, value };
    } catch (error) {
      throw this.#typed(error);
    }
  }

  async *keys(range: KvRange): AsyncGenerator<string> {
    try {
      yield* this.#open().keys(levelRange(range));
    } catch (error) {
      throw this.#typed(error);
    }
  }

  /** LevelDB's own corruption reports become CHECKPOINT_CORRUPT; anything else is left as it is. */
  #typed(error: unknown): unknown {
    return isDamage(error) ? this.#corrupt(error) : error;
  }

  #corrupt(error: unknown): CheckpointStoreError {
    return new CheckpointStoreError(
      'CHECKPOINT_CORRUPT',
      this.location,
      `checkpoint store at ${this.location} is damaged: LevelDB reports "${deepMessage(error)}"; repair it with \`steadfast checkpoints repair ${this.location}\`, or start the pipeline with checkpoint: { repairOnCorruption: true }`,
      error,
    );
  }

  #open(): Level<string, Uint8Array> {
    if (this.#db === undefined) throw new Error('the LevelDB backend is not open');
    return this.#db;
  }

  async #ensureDir(): Promise<void> {
    try {
      await ensureDir(this.location);
    } catch (error) {
      throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, `cannot create the checkpoint store directory ${this.location}: ${messageOf(error)}`, error);
    }
  }

  async #expectDatabase(): Promise<void> {
    // LevelDB's CURRENT file names the live manifest: no CURRENT, no database (an empty dir is missing too).
    const current = await stat(join(this.location, 'CURRENT')).catch(() => undefined);
    if (current === undefined || !current.isFile()) {
      throw new CheckpointStoreError('CHECKPOINT_STORE_MISSING', this.location, `no checkpoint store at ${this.location}`);
    }
  }
}

function levelRange({ gte, lt, reverse }: KvRange): { gte?: string; lt?: string; reverse: boolean } {
  const range: { gte?: string; lt?: string; reverse: boolean } = { reverse: reverse === true };
  if (gte !== undefined) range.gte = gte;
  if (lt !== undefined) range.lt = lt;
  return range;
}

// A read LevelDB sends past the end of a table: a block handle in it was damaged (posix pread EINVAL).
const TABLE_READ_PAST_END = /IO error: .*\d+\.(ldb|sst): Invalid argument/;

/** LevelDB's report of damaged files: a corruption, or a table read at an offset the table cannot have. */
function isDamage(error: unknown): boolean {
  return hasCode(error, 'LEVEL_CORRUPTION') || (hasCode(error, 'LEVEL_IO_ERROR') && TABLE_READ_PAST_END.test(deepMessage(error)));
}

/** True when `error` or any error in its `cause` chain has `code`. */
function hasCode(error: unknown, code: string): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}

/** The innermost message of a cause chain: LevelDB's own words rather than "Database failed to open". */
function deepMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 8 && e instanceof Error && e.cause !== undefined; depth++) e = e.cause;
  return messageOf(e);
}
