// How the store commands reach a checkpoint store: path resolved, never created, closed after use,
// and every failure turned into one line (a stack only with --verbose) and an exit code.
import { resolve } from 'node:path';
import { createCheckpointStore } from '../checkpoint/create-store.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { messageOf } from '../core/errors.js';
import { writeError } from './error-line.js';
import { EXIT } from './main.js';
import type { CliIo } from './main.js';

/** How a command opens the store. */
export interface StoreAccess {
  /** The directory as the user gave it. */
  dir: string;
  /** Opened for writing (prune, replay); never created either way. */
  write: boolean;
  /** Decode v8 payloads (`--trust`). */
  trust: boolean;
  verbose: boolean;
}

/** Opens the store, runs `work`, closes it; resolves with `work`'s exit code, or 1 after a one-line error. */
export async function withStore(io: CliIo, access: StoreAccess, work: (store: CheckpointStore) => Promise<number>): Promise<number> {
  const dir = resolve(access.dir);
  let store: CheckpointStore | undefined;
  try {
    store = createCheckpointStore(access.write ? { dir, createIfMissing: false, decodeV8: access.trust } : { dir, readOnly: true, decodeV8: access.trust });
    await store.open();
    return await work(store);
  } catch (error) {
    return fail(io, error, access.verbose);
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** Writes one error line (the stack too with `verbose`) and returns exit code 1. */
export function fail(io: CliIo, error: unknown, verbose: boolean): number {
  // Whole, escaped: the message names the directory, which may hold any character.
  writeError(io, messageOf(error));
  if (verbose && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}
