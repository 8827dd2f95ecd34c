// A checkpoint store backend on LevelDB (classic-level, through the `level` package).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { CheckpointStoreError, messageOf } from '../core/errors.js';
import { ensureDir } from '../sinks/ensure-dir.js';
import type { KvBackend, KvOp, KvRange } from './kv.js';
import type { RawEntry } from './types.js';

/** How a LevelDB backend opens its directory. */
export interface LevelBackendOptions {
  /** Create the directory and database when missing (else CHECKPOINT_STORE_MISSING). */
  createIfMissing: boolean;
}

/** A backend on a LevelDB directory; one open instance per directory across processes (LevelDB's LOCK file). */
export class LevelBackend implements KvBackend {
  readonly kind = 'level';
  readonly location: string;
  readonly #createIfMissing: boolean;
  #db: Level<string, Uint8Array> | undefined;

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
      throw new CheckpointStoreError('CHECKPOINT_STORE_FAILED', this.location, `checkpoint store at ${this.location} failed to open: ${deepMessage(error)}`, error);
    }
    this.#db = db;
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    await db?.close();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.#open().get(key)) ?? undefined;
  }

  async write(ops: readonly KvOp[], sync: boolean): Promise<void> {
    if (ops.length === 0) return;
    await this.#open().batch(ops.map((op) => ({ ...op })), { sync });
  }

  async *entries(range: KvRange): AsyncGenerator<RawEntry> {
    for await (const [key, value] of this.#open().iterator(levelRange(range))) yield { key, value };
  }

  async *keys(range: KvRange): AsyncGenerator<string> {
    yield* this.#open().keys(levelRange(range));
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
