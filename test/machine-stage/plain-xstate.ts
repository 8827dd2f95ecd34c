// XState as `node` loads it for a program: its production build.
// vitest resolves the development build, which refuses inline children at persist time where the
// production build persists them silently and breaks after a JSON round trip. For the
// plain-XState halves of the tests only.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as XState from 'xstate';

const require = createRequire(import.meta.url);
// By file path: the package's `development` export condition (which vitest's workers set) does not apply.
const production = join(dirname(require.resolve('xstate/package.json')), 'dist', 'xstate.cjs.js');

/** The production build of XState, loaded beside the one the tests import. */
export const plainXState = require(production) as typeof XState;

/** A JSON round trip, as a store or a process restart does it. */
export function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
