// How `steadfast run` finds the pipeline a module exports: path resolved and checked, module
// imported, the default export (or `pipeline`) taken, called if it is a factory, and checked.
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { messageOf } from '../core/errors.js';
import type { Pipeline } from '../pipeline/pipeline.js';

/** A module that could not give a pipeline: a one-line message, and the error behind it if any. */
export interface LoadProblem {
  problem: string;
  error?: unknown;
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** Loads the pipeline of the module at `path` (relative to `cwd`); never throws. */
export async function loadPipeline(path: string, cwd: string): Promise<Pipeline | LoadProblem> {
  const file = resolve(cwd, path);
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) return { problem: `module not found: ${file}` };
  if (!info.isFile()) return { problem: `module is not a file: ${file}` };
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.has(extname(file))) {
      return { problem: `cannot load TypeScript module "${path}" without tsx: run \`node --import tsx <steadfast bin> run ${path}\`, or build it to JavaScript`, error };
    }
    return { problem: `cannot load module "${path}": ${firstLine(error)}`, error };
  }
  const name = 'default' in exports && exports.default !== undefined ? 'default' : 'pipeline' in exports ? 'pipeline' : undefined;
  if (name === undefined) {
    const names = Object.keys(exports).sort();
    return { problem: `module "${path}" exports no pipeline: give it a default export or an export named "pipeline" (exports: ${names.length > 0 ? names.join(', ') : 'none'})` };
  }
  let value = exports[name];
  const what = name === 'default' ? `the default export of "${path}"` : `export "pipeline" of "${path}"`;
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      return { problem: `${what} failed to make the pipeline: ${firstLine(error)}`, error };
    }
  } else if (isThenable(value)) {
    try {
      value = await value;
    } catch (error) {
      return { problem: `${what} failed to make the pipeline: ${firstLine(error)}`, error };
    }
  }
  if (!isPipeline(value)) return { problem: `${what} is not a pipeline (made by createPipeline()), nor a function or promise giving one; got ${kindOf(value)}` };
  return value;
}

/** A pipeline as `run` uses it; one made by another copy of steadfast passes too. */
export function isPipeline(value: unknown): value is Pipeline {
  const p = value as Partial<Record<keyof Pipeline, unknown>> | null;
  return (
    typeof p === 'object' && p !== null && typeof p.name === 'string' && isThenable(p.done) &&
    (['start', 'stop', 'stats', 'observe'] as const).every((method) => typeof p[method] === 'function')
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function firstLine(error: unknown): string {
  return messageOf(error).split('\n')[0] ?? '';
}
