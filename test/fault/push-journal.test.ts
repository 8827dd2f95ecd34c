// SIGKILL a child that pushes events into a checkpointed pipeline, again and again: no push that
// resolved is lost (the journal replays what the last checkpoint does not cover), and no event is
// counted twice (issue 10, item 1: before the journal, everything pushed since the last checkpoint
// was gone and offsets started again at 0).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultSeed, seededRandom, sleep } from './fixtures/harness.js';
import type { PushWorkerConfig, PushWorkerState } from './fixtures/push-worker.js';

const WORKER = new URL('./fixtures/push-worker.ts', import.meta.url).pathname;
const REPO = new URL('../../', import.meta.url).pathname;
const KILLS = Math.max(8, Math.round(Number(process.env.STEADFAST_FAULT_KILLS ?? 50) / 5));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-push-journal-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(config: PushWorkerConfig) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ready = new Promise<boolean>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve(true);
    });
    child.on('close', () => resolve(false));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, ready, exited, stderr: () => stderr };
}

/** Ids whose push started (`p`) and ids whose push resolved (`a`). */
function acks(file: string): { started: number[]; acked: Set<number> } {
  const started: number[] = [];
  const acked = new Set<number>();
  if (!existsSync(file)) return { started, acked };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, id] = line.split(' ');
    if (id === undefined || id === '') continue; // a line cut by the kill
    if (kind === 'p') started.push(Number(id));
    if (kind === 'a') acked.add(Number(id));
  }
  return { started, acked };
}

describe('a push source under checkpoints, killed with SIGKILL', () => {
  it(`keeps every resolved push and counts each event once over ${KILLS} kills`, { timeout: 60_000 + KILLS * 5_000 }, async () => {
    const random = seededRandom(faultSeed());
    const dir = join(root, 'ckpt');
    const file = join(root, 'acks');
    let from = 0;
    for (let k = 0; k < KILLS; k++) {
      const worker = run({ dir, acks: file, result: '', mode: 'push', from, everyEvents: 40 });
      expect(await worker.ready, worker.stderr()).toBe(true);
      await sleep(30 + random() * 250);
      worker.child.kill('SIGKILL');
      expect((await worker.exited).signal).toBe('SIGKILL');
      // Next time, ids nobody pushed yet: an id is never pushed twice, so a count of 2 is a replay.
      from = Math.max(from, ...acks(file).started) + 1;
    }
    const result = join(root, 'result.json');
    const finish = run({ dir, acks: file, result, mode: 'finish', from, everyEvents: 40 });
    expect(await finish.exited, finish.stderr()).toEqual({ code: 0, signal: null });
    const { seen } = JSON.parse(readFileSync(result, 'utf8')) as PushWorkerState;
    const { started, acked } = acks(file);
    expect(acked.size).toBeGreaterThan(KILLS * 10);
    const lost = [...acked].filter((id) => seen[id] !== 1);
    expect(lost, 'resolved pushes not counted exactly once').toEqual([]);
    const twice = Object.entries(seen).filter(([, n]) => n !== 1);
    expect(twice, 'events counted more than once').toEqual([]);
    // An id in doubt (pushed, killed before the push resolved) is counted once or not at all; nothing else appears.
    const pushed = new Set(started);
    expect(Object.keys(seen).filter((id) => !pushed.has(Number(id)))).toEqual([]);
  });
});
