// SIGKILL a process running a machineChild (a parent spawning per-key children, each on its own
// `after` timer) at random moments and start it again from its LevelDB directory, until a run
// finishes: every key's timer must have been handled exactly once, as in a run without kills.
// Episodes (each in a fresh directory) follow one another until STEADFAST_FAULT_MACHINE_KILLS
// kills (default 20) have landed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultSeed, seededRandom } from './fixtures/harness.js';

const WORKER = new URL('./fixtures/machine-child-worker.ts', import.meta.url).pathname;
const REPO = new URL('../../', import.meta.url).pathname;
const KEYS = 40;
const KILLS = Number(process.env.STEADFAST_FAULT_MACHINE_KILLS ?? 20);
if (!Number.isSafeInteger(KILLS) || KILLS < 1) throw new Error(`STEADFAST_FAULT_MACHINE_KILLS must be a positive integer, got "${process.env.STEADFAST_FAULT_MACHINE_KILLS}"`);

interface Run {
  child: ChildProcess;
  /** Resolves with each line as it comes: `ready`, then `done` with the result. */
  lines: Array<{ t: string; fired?: Record<string, number> }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

let root: string;
const live = new Set<ChildProcess>();
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-machine-kill-'));
});
afterAll(async () => {
  for (const child of live) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

function start(dir: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, dir, String(KEYS)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines: Run['lines'] = [];
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let end: number;
    while ((end = stdout.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(stdout.slice(0, end)) as Run['lines'][number]);
      stdout = stdout.slice(end + 1);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => (live.delete(child), resolve({ code, signal }))));
  return { child, lines, exited, stderr: () => stderr };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function untilReadyOrExit(run: Run): Promise<void> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!exited && run.lines.length === 0) await sleep(5);
}

describe('SIGKILL of a machineChild', () => {
  it(`handles every per-key timer exactly once over ${KILLS} kills at random moments`, { timeout: 60_000 + KILLS * 5_000 }, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const expected = Object.fromEntries(Array.from({ length: KEYS }, (_, i) => [`job-${i}`, 1]));

    const reference = start(join(root, 'reference'));
    expect(await reference.exited, reference.stderr()).toEqual({ code: 0, signal: null });
    expect(reference.lines.at(-1)).toEqual({ t: 'done', fired: expected });

    let kills = 0;
    let runs = 0;
    for (let episode = 0; kills < KILLS; episode++) {
      const dir = join(root, `episode-${episode}`);
      for (;;) {
        const run = start(dir);
        runs++;
        await untilReadyOrExit(run);
        if (kills < KILLS && run.child.exitCode === null) {
          await sleep(Math.floor(random() * 300));
          if (run.child.exitCode === null && run.lines.every((line) => line.t !== 'done')) {
            run.child.kill('SIGKILL');
            const exit = await run.exited;
            if (exit.signal === 'SIGKILL') {
              kills++;
              continue;
            }
          }
        }
        const exit = await run.exited;
        expect(exit, `seed ${seed}, episode ${episode}, run ${runs}: ${run.stderr()}`).toEqual({ code: 0, signal: null });
        expect(run.lines.at(-1), `seed ${seed}, episode ${episode}`).toEqual({ t: 'done', fired: expected });
        break;
      }
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);
  });
});
