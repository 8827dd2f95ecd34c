#!/usr/bin/env node
// The steadfast command: a thin launcher for the compiled CLI in dist/ (in the published package;
// in a clone, `npm run build` makes it, and `npm test` and `npm pack` run that first).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('steadfast: the CLI is not built; run `npm run build` in the steadfast package\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
