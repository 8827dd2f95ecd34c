// Makes sure `redis-server` is on PATH before the tests run (vitest globalSetup): installs the Debian
// package when it can (root, or sudo without a password), otherwise fails with one line saying what
// to install. Never a silent skip.
import { execFileSync, spawnSync } from 'node:child_process';

/** True when `redis-server` can be run. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

const WHAT = 'redis-server is not on PATH: install the Debian package redis-server (apt-get install -y redis-server) to run the tests';

/** Installs redis-server with apt-get when missing and possible; throws one line otherwise. */
export function ensureRedisServer(): void {
  if (hasRedisServer()) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!root && !sudo) throw new Error(WHAT);
  const run = (args: string[]): void => {
    const [command, ...rest] = sudo ? ['sudo', '-n', ...args] : args;
    execFileSync(command as string, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  try {
    run(['apt-get', 'update']);
    run(['apt-get', 'install', '-y', 'redis-server']);
  } catch (error) {
    throw new Error(`${WHAT} (installing it with apt-get failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`, { cause: error });
  }
  if (!hasRedisServer()) throw new Error(`${WHAT} (apt-get installed it, but it is still not on PATH)`);
}

/** vitest globalSetup: runs once before any test file; without redis-server, one line and exit 1 (no stack trace). */
export default function setup(): void {
  try {
    ensureRedisServer();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
