import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates `dir` and its missing parents. Unlike `mkdir(dir, { recursive: true })`, which on Node 20
 * loops for ever on some paths (e.g. under /proc), every level is tried once.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await ensureDir(parent);
    try {
      await mkdir(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
