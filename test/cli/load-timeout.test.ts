// `steadfast run` of a module whose pipeline never comes: one line and exit 1, never a hang or
// Node's silent exit 13 (an unsettled top-level await).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import type { RunHost } from '../../src/cli/run-host.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { captureIo } from './capture-io.js';

const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function runIn(argv: string[], env: Record<string, string> = {}) {
  const io = captureIo();
  const released: number[] = [];
  const host: RunHost = { env, cwd: () => process.cwd(), onSignal: () => () => {}, exit: () => {}, release: (code) => released.push(code) };
  const started = Date.now();
  const code = await run(argv, io, host);
  return { code, ms: Date.now() - started, stdout: io.out.join(''), stderr: io.err.join(''), released };
}

function binary(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; ms: number; stdout: string; stderr: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', STEADFAST_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, ms: Date.now() - started, stdout, stderr });
    }),
  );
}

describe('steadfast run: a module whose pipeline never comes', () => {
  it('gives up after --load-timeout with one line and exit 1, and lets the process go', async () => {
    const before = activeResources();
    const result = await runIn([fixture('never-settles.mjs'), '--load-timeout', '150']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^steadfast: module ".*never-settles\.mjs" gave no pipeline within 150 ms: .*--load-timeout <ms> or STEADFAST_LOAD_TIMEOUT_MS.*\n$/);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.ms).toBeGreaterThanOrEqual(140);
    expect(result.released).toEqual([1]);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('takes the timeout of a factory from STEADFAST_LOAD_TIMEOUT_MS, and --load-timeout wins over it', async () => {
    const fromEnv = await runIn([fixture('never-settles-factory.mjs')], { STEADFAST_LOAD_TIMEOUT_MS: '120' });
    expect([fromEnv.code, fromEnv.stderr]).toEqual([1, expect.stringContaining('gave no pipeline within 120 ms')]);
    const fromFlag = await runIn([fixture('never-settles-factory.mjs'), '--load-timeout=100'], { STEADFAST_LOAD_TIMEOUT_MS: '60000' });
    expect(fromFlag.stderr).toContain('gave no pipeline within 100 ms');
  });

  it('refuses a bad timeout as a usage error', async () => {
    expect(await runIn(['a.mjs', '--load-timeout', 'soon'])).toMatchObject({ code: 2, stderr: 'steadfast: option "--load-timeout" must be an integer >= 0, got "soon"; see `steadfast run --help`\n' });
    expect(await runIn(['a.mjs'], { STEADFAST_LOAD_TIMEOUT_MS: '-1' })).toMatchObject({ code: 2, stderr: expect.stringContaining('STEADFAST_LOAD_TIMEOUT_MS must be milliseconds in [0, 2147483647]') });
  });

  // The built binary (dist/): the real process, where Node would end an unsettled top-level await with exit 13.
  it.each([['never-settles.mjs'], ['never-settles-factory.mjs']])('exits 1 at once with one line when nothing is left to settle %s', async (name) => {
    const result = await binary(['run', fixture(name)]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(new RegExp(`^steadfast: module ".*${name.replace('.', '\\.')}" gives no pipeline: it waits for a promise that nothing is left to settle\\n$`));
    expect(result.ms).toBeLessThan(10_000);
  });

  it('exits 1 after the load timeout when the module keeps its process busy', async () => {
    const result = await binary(['run', fixture('busy-never-settles.mjs'), '--load-timeout', '300']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^steadfast: module ".*busy-never-settles\.mjs" gave no pipeline within 300 ms: [^\n]*\n$/);
  });
});
