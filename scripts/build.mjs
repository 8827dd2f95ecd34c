// Builds dist/ without ever removing a file that is in use: tsc writes into a fresh directory beside
// dist/, each file is then renamed over its old copy (a rename is atomic on one file system, so a
// process importing from dist/ meanwhile sees the old file or the new one, never none or half of
// one), and only then are files no longer produced (a source deleted or renamed) removed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const staging = join(root, `.dist-build-${process.pid}`);

/** Every file under `dir`, relative to it. */
function files(dir) {
  const out = [];
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  try {
    walk(dir);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  return out;
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', staging], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  const built = files(staging);
  for (const file of built) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    renameSync(join(staging, file), join(dist, file));
  }
  const fresh = new Set(built);
  for (const file of files(dist)) if (!fresh.has(file)) rmSync(join(dist, file));
} finally {
  rmSync(staging, { recursive: true, force: true });
}
