#!/usr/bin/env node
// The steadfast command: a thin launcher for the compiled CLI in dist/ (in the published package;
// in a clone, `npm run build` makes it, and `npm test` and `npm pack` run that first).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('steadfast: the CLI is not built; run `npm run build` in the steadfast package\n');
  process.exit(1);
}
// A reader that stops early (`steadfast dlq list <dir> | head -1`) closes the pipe: end quietly
// with 0, as a listing has nothing left to say. `run` goes on instead (its status lines have lost
// their reader; stopping the pipeline there would skip its graceful stop and final checkpoint).
const command = process.argv[2];
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    if (command !== 'run') process.exit(0);
  });
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
