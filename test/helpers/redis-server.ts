// A real redis-server for tests: its own process on a free port of 127.0.0.1, its own temp dir
// (append-only file on by default, so that a test can kill it and start it again with its data).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRedisServer } from './redis-install.js';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Keep an append-only file (default true): kill() then restart() keeps every acknowledged write. */
  appendOnly?: boolean;
  /**
   * The AOF's fsync policy (default `always`: every acknowledged write is on disk before its reply;
   * with `everysec` a busy machine can lose the last second or two of acknowledged writes to a kill).
   */
  appendFsync?: 'always' | 'everysec';
}

/** A running (or stopped, restartable) redis-server. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The server's pid while it runs. */
  readonly pid: number | undefined;
  /** SIGKILL, no shutdown save: what a crash leaves. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that hangs without closing its connections. */
  pause(): void;
  resume(): void;
  /** Starts the server again on the same port and dir (after kill()). */
  restart(): Promise<void>;
  /** Stops the server and deletes its dir; nothing is left running. Idempotent. */
  stop(): Promise<void>;
}

/** Starts redis-server on a free port with a fresh temp dir. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  ensureRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'steadfast-redis-'));
  const appendOnly = options.appendOnly ?? true;
  const fsync = options.appendFsync ?? 'always';
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, appendOnly, fsync);
    } catch (error) {
      // Another process took the port between our probe and redis binding it: try another.
      if (attempt >= 4) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let stopped = false;
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async kill() {
      if (child !== undefined) await end(child, 'SIGKILL');
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      if (child !== undefined) await end(child, 'SIGKILL');
      child = await launch(port, dir, appendOnly, fsync);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child !== undefined) {
        child.kill('SIGCONT');
        await end(child, 'SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Spawns redis-server and resolves once it accepts connections; rejects (and reaps it) if it exits first. */
function launch(port: number, dir: string, appendOnly: boolean, fsync: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', appendOnly ? 'yes' : 'no', '--appendfsync', fsync, '--daemonize', 'no', '--logfile', ''];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void end(child, 'SIGKILL').then(() => reject(new Error(`redis-server on port ${port} did not get ready in 10 s: ${out}`)));
    }, 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready: ${out.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function end(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
