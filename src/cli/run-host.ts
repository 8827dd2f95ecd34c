// What `steadfast run` needs from its process, behind an interface so that tests run it in-process.
import { setTimer, systemClock } from '../core/clock.js';

/** The signals that stop a run. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The process `steadfast run` runs in. */
export interface RunHost {
  readonly env: Readonly<Record<string, string | undefined>>;
  cwd(): string;
  /** Calls `handler` on SIGINT and SIGTERM instead of the default (exit); returns the function that restores it. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
  /** Ends the process at once (a second signal). */
  exit(code: number): void;
  /** The run is over: the process ends with `code` soon, even if the module left timers or sockets open. */
  release(code: number): void;
  /** Calls `handler` whenever the process has nothing left to do (`beforeExit`); returns the function that stops it. */
  onIdle?(handler: () => void): () => void;
}

/** How long the process may take to end by itself after the run, before it is ended. */
const RELEASE_GRACE_MS = 2_000;

/** The real process. */
export function processHost(): RunHost {
  return {
    env: process.env,
    cwd: () => process.cwd(),
    onSignal: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
    exit: (code) => process.exit(code),
    onIdle: (handler) => {
      process.on('beforeExit', handler);
      return () => process.off('beforeExit', handler);
    },
    release: (code) => {
      // Unref'd: a process with nothing left open ends at once, without waiting for this.
      setTimer(systemClock, RELEASE_GRACE_MS, () => process.exit(code), { unref: true });
    },
  };
}
