import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { messageOf } from '../core/errors.js';

const TYPESCRIPT = /\.[cm]?tsx?$/i;

/**
 * What to start the worker with.
 *
 * The entry is `stage-worker` next to this file: `.js` in dist/, `.ts` when the sources run under
 * vitest (vite-node) or tsx. A worker thread does not get the host's TypeScript support: vitest
 * transforms modules in its own module runner, which workers do not share, and on Node 20 tsx
 * registers its loader hooks in the main thread only (`node --import tsx` and a worker's
 * `execArgv: ['--import', 'tsx']` both leave the worker unable to load .ts: tsx's loader skips
 * non-main threads there). So when the entry or the stage's module is TypeScript, the worker starts
 * from a small `data:` module that calls tsx's `register()` (tsx/esm/api) in the worker itself and
 * then imports the entry. tsx is a dev dependency: compiled code with a .js stage module never
 * needs it.
 */
export function workerUrl(module: string): URL {
  const here = new URL(import.meta.url);
  const entry = new URL(here.pathname.endsWith('.ts') ? './stage-worker.ts' : './stage-worker.js', here);
  if (!TYPESCRIPT.test(entry.pathname) && !TYPESCRIPT.test(new URL(module).pathname)) return entry;
  const tsx = resolveTsx(module);
  const code = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The URL of tsx's ESM API, seen from steadfast or else from the stage's module. */
function resolveTsx(module: string): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    // not reachable from here (e.g. steadfast installed elsewhere): try from the stage's module
  }
  try {
    return pathToFileURL(createRequire(fileURLToPath(module)).resolve('tsx/esm/api')).href;
  } catch (error) {
    throw new Error(`running TypeScript in a worker thread needs tsx, which cannot be resolved (${messageOf(error)}); install tsx or use compiled JavaScript`, {
      cause: error,
    });
  }
}
