// SIGTERM to `steadfast run` (the real binary, bin/steadfast.js → dist/) while its pipeline runs at
// full speed with checkpoints: it must exit 0 within the pipeline's shutdown budget, and the final
// checkpoint in the store must be complete: the newest completed marker covers the last event read,
// and every stage's snapshot at that version verifies and holds the state of exactly those events.
// The light version (a slow source) is test/cli/run.test.ts "stops gracefully on SIGTERM".
// STEADFAST_FAULT_KILLS (set by `npm run test:fault`) raises the number of signalled runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { CompletedCheckpoint } from '../../src/checkpoint/types.js';

const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/full-speed-pipeline.mjs', import.meta.url));
/** The fixture's stopTimeoutMs: the budget the whole stop (drain, final checkpoint, close) must fit in. */
const STOP_TIMEOUT_MS = 10_000;
const RUNS = process.env.STEADFAST_FAULT_KILLS === undefined ? 3 : 10;
const STAGES = ['parse', 'enrich', 'count'];

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-sigterm-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

const children: ChildProcess[] = [];
/** Per signalled run: events read, and ms from the signal to the exit. */
const stops: string[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (stops.length > 0) process.stderr.write(`SIGTERM under load (events read, signal → exit): ${stops.join(', ')}\n`);
});

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [bin, 'run', fixture, '--interval', '100', '--http', '127.0.0.1:0'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', STEADFAST_LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Lines of the sink file: how many, and whether they are 0, 1, 2, … in order. */
async function sinkLines(file: string): Promise<{ lines: number; inOrder: boolean; last: string | undefined }> {
  let lines = 0;
  let inOrder = true;
  let last: string | undefined;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line !== String(lines)) inOrder = false;
    lines++;
    last = line;
  }
  return { lines, inOrder, last };
}

describe('SIGTERM under load to steadfast run with checkpoints', () => {
  it(`exits 0 within the shutdown budget with a complete final checkpoint, ${RUNS} runs signalled at random moments`, { timeout: 30_000 + RUNS * 25_000 }, async () => {
    for (let i = 0; i < RUNS; i++) {
      const store = join(dir, `ckpt-${i}`);
      const sink = join(dir, `sink-${i}.ndjson`);
      const running = run({ FIXTURE_CHECKPOINT_DIR: store, FIXTURE_SINK_FILE: sink, FIXTURE_STOP_TIMEOUT_MS: String(STOP_TIMEOUT_MS) });
      // Under load: at least 100,000 events read and a checkpoint completed; then a random moment.
      await vi.waitFor(
        () => {
          const lines = [...running.stdout().matchAll(/loaded running \| (\d+) events .* \| checkpoint \d+ at offset/g)];
          if (lines.length === 0 || Number(lines.at(-1)?.[1]) < 100_000) throw new Error(`not under load yet:\n${running.stdout()}\n${running.stderr()}`);
        },
        { timeout: 20_000, interval: 20 },
      );
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 400)));
      const signalledAt = performance.now();
      running.child.kill('SIGTERM');
      const exit = await running.exited;
      const context = `run ${i}:\n${running.stdout().split('\n').slice(-4).join('\n')}\n${running.stderr()}`;
      expect({ code: exit.code, signal: exit.signal }, context).toEqual({ code: 0, signal: null });
      const stopMs = exit.at - signalledAt;
      expect(stopMs, context).toBeLessThan(STOP_TIMEOUT_MS);

      const ours = running.stderr().split('\n').filter((line) => line.startsWith('steadfast:'));
      expect(ours, context).toEqual(['steadfast: SIGTERM: stopping "loaded" (draining, final checkpoint); send it again to exit at once']);
      const final = /loaded stopped \| (\d+) events .* checkpoint (\d+) at offset (\d+)/.exec(running.stdout().trimEnd().split('\n').at(-1) ?? '');
      expect(final, context).not.toBeNull();
      const [, eventsText, versionText, offsetText] = final as RegExpExecArray;
      const events = Number(eventsText);
      const version = Number(versionText);
      const offset = Number(offsetText);
      expect(offset, context).toBe(events - 1); // the final checkpoint covers the last event read
      stops.push(`${events} in ${Math.round(stopMs)} ms`);

      const checkpoints = createCheckpointStore({ dir: store, readOnly: true });
      try {
        const completed: CompletedCheckpoint[] = [];
        for await (const read of checkpoints.completed('loaded')) {
          expect(read.ok, `${read.key}: ${read.ok ? '' : read.reason}`).toBe(true);
          if (read.ok) completed.push(read.value);
        }
        const newest = completed[0];
        expect(newest, context).toMatchObject({ pipeline: 'loaded', version, offset });
        expect([...(newest?.stages ?? [])].sort()).toEqual([...STAGES].sort());
        for (const stage of STAGES) {
          const snapshot = await checkpoints.readSnapshot('loaded', stage, version);
          expect(snapshot?.ok, `${stage} v${version}: ${snapshot?.ok === false ? snapshot.reason : 'missing'}`).toBe(true);
          if (snapshot?.ok !== true) continue;
          expect(snapshot.value).toMatchObject({ pipeline: 'loaded', stage, version, offset });
          const state = (snapshot.value.state as { value?: unknown }).value;
          if (stage === 'enrich') expect(state).toEqual({ n: offset + 1 });
          if (stage === 'count') expect(state).toEqual({ n: offset + 1, sum: (offset * (offset + 1)) / 2 });
        }
      } finally {
        await checkpoints.close();
      }
      // Drained: every event read reached the sink, once and in order, before the exit.
      expect(await sinkLines(sink)).toEqual({ lines: events, inOrder: true, last: String(offset) });
      await rm(sink, { force: true });
    }
  });
});
