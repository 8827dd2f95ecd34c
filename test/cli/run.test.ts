// `steadfast run` as users run it: the real binary (bin/steadfast.js → dist/, built by
// `npm run build`) in a child process, with real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { CompletedCheckpoint } from '../../src/checkpoint/types.js';
import { httpGet } from '../observability/http.js';

const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A running `steadfast` process: what it wrote so far, and how it ended. */
interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout (or stderr) matches. */
  waitFor: (pattern: RegExp, stream?: 'stdout' | 'stderr') => Promise<RegExpMatchArray>;
}

const children: ChildProcess[] = [];

function steadfast(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Running {
  const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', STEADFAST_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: async (pattern, stream = 'stdout') => {
      let match: RegExpMatchArray | null = null;
      await vi.waitFor(
        () => {
          match = (stream === 'stdout' ? out : err).match(pattern);
          if (match === null) throw new Error(`no ${pattern} in ${stream} yet:\n${out}\n${err}`);
        },
        { timeout: 15_000, interval: 20 },
      );
      return match as unknown as RegExpMatchArray;
    },
  };
}

/** Runs the binary to its end. */
async function finished(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const running = steadfast(args, env, nodeArgs);
  const { code } = await running.exited;
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('steadfast run (the binary)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steadfast-cli-run-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 2 with one line for a usage error', async () => {
    expect(await finished(['run'])).toEqual({ code: 2, stdout: '', stderr: 'steadfast: run needs a module: steadfast run <module>; see `steadfast run --help`\n' });
    expect(await finished(['run', 'x.mjs', '--http', 'here'])).toEqual({ code: 2, stdout: '', stderr: 'steadfast: option "--http" needs a port in [0, 65535] (0 picks a free one), got "here"; see `steadfast run --help`\n' });
    expect(await finished(['run', 'x.mjs'], { STEADFAST_BREAKER_THRESHOLD: 'lots' })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'steadfast: STEADFAST_BREAKER_THRESHOLD must be an integer in [1, 1000000] (failures in a row that open a breaker), got "lots"\n',
    });
  });

  it('exits 1 with one line for a missing module, naming the resolved path', async () => {
    expect(await finished(['run', 'test/cli/fixtures/nowhere.mjs'])).toEqual({ code: 1, stdout: '', stderr: `steadfast: module not found: ${fixture('nowhere.mjs')}\n` });
  });

  it('exits 1 with one line when the pipeline fails, and shows the stack with --verbose', async () => {
    const quiet = await finished(['run', fixture('failing-pipeline.mjs'), '--interval', '0']);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe('steadfast: pipeline "failing" failed: source async-iterable failed: the feed went away\n');
    expect(quiet.stdout).toMatch(/ failing failed \| 2 events /);
    const verbose = await finished(['run', fixture('failing-pipeline.mjs'), '--interval', '0', '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr.split('\n')[0]).toBe('steadfast: pipeline "failing" failed: source async-iterable failed: the feed went away');
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('stops gracefully on SIGTERM: exit 0, and the final checkpoint is complete in the store', async () => {
    const store = join(dir, 'ckpt');
    const run = steadfast(['run', fixture('ticker-pipeline.mjs'), '--interval', '200'], { FIXTURE_CHECKPOINT_DIR: store, STEADFAST_LOG_LEVEL: 'info' });
    await run.waitFor(/ticker running \| [1-9]\d* events .* \| checkpoint \d+ at offset/);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    // Plain status lines (stdout is a pipe), the last one the final status.
    const lines = run.stdout().trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z ticker (running|stopping|stopped) \| \d+ events \| read [\d.,]+\/s · done [\d.,]+\/s \| count \w+, sink \w+ \| restarts 0 \| checkpoint /);
    const final = /ticker stopped \| (\d+) events .* checkpoint (\d+) at offset (\d+)/.exec(lines.at(-1) ?? '');
    expect(final).not.toBeNull();
    const [, events, version, offset] = final as RegExpExecArray;
    expect(Number(offset)).toBe(Number(events) - 1); // every event read is covered
    // stderr: pino's JSON lines (STEADFAST_LOG_LEVEL=info) and one line of ours.
    const ours = run.stderr().split('\n').filter((line) => line.startsWith('steadfast:'));
    expect(ours).toEqual(['steadfast: SIGTERM: stopping "ticker" (draining, final checkpoint); send it again to exit at once']);
    expect(run.stderr()).toContain('"msg":"pipeline finished"');

    const checkpoints = createCheckpointStore({ dir: store, readOnly: true });
    try {
      const completed: CompletedCheckpoint[] = [];
      for await (const read of checkpoints.completed('ticker')) if (read.ok) completed.push(read.value);
      expect(completed[0]).toMatchObject({ pipeline: 'ticker', version: Number(version), offset: Number(offset), stages: ['count'] });
      const snapshot = await checkpoints.readSnapshot('ticker', 'count', Number(version));
      expect(snapshot).toMatchObject({ ok: true, value: { offset: Number(offset), state: { value: { n: Number(events) } } } });
    } finally {
      await checkpoints.close();
    }
  });

  it('exits 1 with one line on SIGTERM when the final checkpoint fails', async () => {
    const store = join(dir, 'ckpt');
    const run = steadfast(['run', fixture('ticker-pipeline.mjs'), '--interval', '100'], { FIXTURE_CHECKPOINT_DIR: store, FIXTURE_UNENCODABLE: '1' });
    await run.waitFor(/ticker running \| [1-9]\d* events/);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(1);
    const ours = run.stderr().trimEnd().split('\n');
    expect(ours).toHaveLength(2);
    expect(ours[0]).toMatch(/^steadfast: SIGTERM: stopping "ticker"/);
    expect(ours[1]).toMatch(/^steadfast: pipeline "ticker" failed: final checkpoint failed: .*cannot encode/);
    expect(run.stdout().trimEnd().split('\n').at(-1)).toMatch(/ticker failed \| .* checkpoint none yet/);
  });

  it('exits at once with code 130 on a second signal while the stop cannot drain', async () => {
    const run = steadfast(['run', fixture('ticker-pipeline.mjs'), '--interval', '100'], { FIXTURE_STALL: '1' });
    await run.waitFor(/ticker running \| [4-9] events|ticker running \| \d\d+ events/);
    run.child.kill('SIGTERM');
    await run.waitFor(/SIGTERM: stopping/, 'stderr');
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(5_000); // not the 30 s stop timeout
    expect(run.stderr()).toContain('steadfast: SIGTERM again: exiting at once, without finishing the stop (exit 130)\n');
  });

  it('serves /health while running with --http, and stops on SIGINT', async () => {
    const run = steadfast(['run', fixture('ticker-pipeline.mjs'), '--http', '127.0.0.1:0', '--interval', '0']);
    const [, url] = await run.waitFor(/serving (http:\/\/127\.0\.0\.1:\d+) \(dashboard \/, \/health, \/tree, \/inspect, \/metrics\)\n/);
    await vi.waitFor(async () => {
      const health = await httpGet(url as string, '/health');
      expect([health.status, JSON.parse(health.body).state]).toEqual([200, 'running']);
    }, { timeout: 10_000, interval: 50 });
    expect((await httpGet(url as string, '/metrics')).body).toContain('steadfast_stage_events_total{pipeline="ticker",stage="count",outcome="ok"}');
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
    expect(run.stderr()).toBe('steadfast: SIGINT: stopping "ticker" (draining, final checkpoint); send it again to exit at once\n');
  });

  it('runs a TypeScript module when the CLI runs under tsx, and says what to do without it', async () => {
    const typed = await finished(['run', fixture('ticker-pipeline.ts'), '--interval', '0'], { FIXTURE_EVENTS: '25' }, ['--import', 'tsx']);
    expect([typed.code, typed.stderr]).toEqual([0, '']);
    expect(typed.stdout).toMatch(/^\S+ typed stopped \| 25 events \| read [\d.,]+\/s · done [\d.,]+\/s \| double stopped, sink stopped \| restarts 0\n$/);
    const plain = await finished(['run', fixture('ticker-pipeline.ts')]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(`steadfast: cannot load TypeScript module "${fixture('ticker-pipeline.ts')}" without tsx: run \`node --import tsx <steadfast bin> run ${fixture('ticker-pipeline.ts')}\`, or build it to JavaScript\n`);
  });
});
