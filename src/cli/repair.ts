// `steadfast checkpoints repair <dir>`: LevelDB's own repair (RepairDB) for a store whose LevelDB
// files are damaged, then a check of what it saved against what the directory is known to have held.
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createCheckpointStore } from '../checkpoint/create-store.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { CheckpointStoreError, isSteadfastError } from '../core/errors.js';
import { checkEntry } from './entry-check.js';
import { EXIT, type CliIo } from './main.js';
import { fail } from './open-store.js';
import { storeDamage } from './store-damage.js';

// The files LevelDB keeps: a directory with none of them holds no store to repair.
const LEVEL_FILE = /^(CURRENT|MANIFEST-\d+|\d+\.(log|ldb|sst))$/;

/** Repairs the store at `dirArg`; resolves with the exit code, never throws. */
export async function repairStore(io: CliIo, dirArg: string, verbose: boolean): Promise<number> {
  const dir = resolve(dirArg);
  const names = await readdir(dir).catch(() => undefined);
  if (names === undefined || !names.some((name) => LEVEL_FILE.test(name))) {
    return fail(io, new CheckpointStoreError('CHECKPOINT_STORE_MISSING', dir, `no checkpoint store at ${dir}`), verbose);
  }
  const store = createCheckpointStore({ dir, createIfMissing: false });
  try {
    // Opening takes LevelDB's lock, which its repair does not: a store a running pipeline holds fails here.
    await store.open().catch((error: unknown) => {
      if (!isSteadfastError(error, 'CHECKPOINT_CORRUPT') && !isSteadfastError(error, 'CHECKPOINT_STORE_MISSING')) throw error;
    });
    const report = await (store.repair as NonNullable<CheckpointStore['repair']>)();
    io.stdout.write(`repaired ${dir} with LevelDB's repair${report.log.length === 0 ? '' : ':'}\n`);
    for (const line of report.log) io.stdout.write(`  ${line}\n`);
    await checkAfterRepair(io, store);
    return EXIT.ok;
  } catch (error) {
    return fail(io, error, verbose);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** What the repaired store holds: entries and corrupt ones, and each pipeline's newest checkpoint against its witness. */
async function checkAfterRepair(io: CliIo, store: CheckpointStore): Promise<void> {
  let total = 0;
  let corrupt = 0;
  for await (const entry of store.entries()) {
    total++;
    const checked = checkEntry(entry, false);
    if (!checked.ok && !checked.untrusted) corrupt++;
  }
  const hint = corrupt === 0 ? '' : ' (see `steadfast checkpoints verify`; a restore skips them)';
  io.stdout.write(`after the repair: ${total} entr${total === 1 ? 'y' : 'ies'}, ${corrupt} corrupt${hint}\n`);
  for (const line of await storeDamage(store)) io.stdout.write(`${line}\n`);
}
