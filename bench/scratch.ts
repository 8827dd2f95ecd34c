// Temporary directories for the benches' stores: one scratch directory per process, removed on exit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Makes the scratch directory (removed when the process exits); returns a maker of fresh paths inside it (not created). */
export function scratchDirs(prefix = 'steadfast-bench-ckpt-'): () => string {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  let dirs = 0;
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  return () => join(scratch, `db-${++dirs}`);
}

/** A version as the store's keys write it: 16 zero-padded digits. */
export const padVersion = (n: number): string => String(n).padStart(16, '0');
