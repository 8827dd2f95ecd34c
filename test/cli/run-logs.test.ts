// How `steadfast run` writes the pipelines' logs: the real binary in a child process, stderr a pipe.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import type { RunHost } from '../../src/cli/run-host.js';

const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const failing = fileURLToPath(new URL('./fixtures/failing-pipeline.mjs', import.meta.url));

function steadfast(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const logLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line !== '' && !line.startsWith('steadfast: '));

describe('steadfast run logs', () => {
  it('are JSON lines when stderr is not a terminal', async () => {
    const run = await steadfast(['run', failing, '--interval', '0'], { STEADFAST_LOG_LEVEL: 'info' });
    expect(run.code).toBe(1);
    const lines = logLines(run.stderr);
    expect(lines.length).toBeGreaterThan(0);
    const parsed = lines.map((line) => JSON.parse(line) as { msg: string; mode: string });
    expect(parsed[0]).toMatchObject({ msg: 'pipeline started', pipeline: 'failing', mode: 'standard' });
    expect(run.stdout).not.toMatch(/"level"/); // the status lines alone on stdout
  });

  it('are human-readable with STEADFAST_LOG_FORMAT=pretty (as on a terminal), with the error line still last', async () => {
    const run = await steadfast(['run', failing, '--interval', '0'], { STEADFAST_LOG_LEVEL: 'info', STEADFAST_LOG_FORMAT: 'pretty' });
    expect(run.code).toBe(1);
    const lines = logLines(run.stderr);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[failing\] pipeline started stages=\["pass","sink"\] source=async-iterable mode=standard$/);
    expect(lines.some((line) => /^\d\d:\d\d:\d\d\.\d{3} ERROR \[failing\] source failed; draining what was read err="source .* failed: the feed went away/.test(line))).toBe(true);
    expect(lines.every((line) => !line.startsWith('{'))).toBe(true);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^steadfast: pipeline "failing" failed: /);
  });

  it('are human-readable when stderr is a terminal (in process: an io whose stderr says isTTY), and the logger goes back to JSON after', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (text: string) => out.push(text) }, stderr: { isTTY: true, write: (text: string) => err.push(text) } };
    const host: RunHost = { env: {}, cwd: () => root, onSignal: () => () => {}, exit: () => {}, release: () => {} };
    expect(await run([failing, '--interval', '0'], io, host)).toBe(1);
    const lines = logLines(err.join(''));
    expect(lines[0]?.slice(12)).toMatch(/^ .\[32mINFO .\[0m \[failing\] pipeline started /);
    expect(lines[0]?.slice(13, 14)).toBe('\u001b');
    const { setLogDestination } = await import('../../src/logging/logger.js');
    expect(setLogDestination(undefined)).toBeUndefined();
  });

  it('take the mode from STEADFAST_MODE: debug logs each call', async () => {
    const run = await steadfast(['run', failing, '--interval', '0'], { STEADFAST_MODE: 'debug' });
    const parsed = logLines(run.stderr).map((line) => JSON.parse(line) as { level: number; msg: string; mode?: string; stage?: string });
    expect(parsed.find((line) => line.msg === 'pipeline started')?.mode).toBe('debug');
    expect(parsed.filter((line) => line.level === 20 && line.stage === 'pass').map((line) => line.msg)).toEqual(['stage pass called with 1 event', 'stage pass called with 1 event']);
  });

  it('reject a bad STEADFAST_MODE or STEADFAST_LOG_FORMAT as a usage error (exit 2) before running', async () => {
    const mode = await steadfast(['run', failing], { STEADFAST_MODE: 'fast' });
    expect([mode.code, mode.stdout, mode.stderr]).toEqual([2, '', 'steadfast: STEADFAST_MODE must be one of throughput, standard, debug, got "fast"\n']);
    const format = await steadfast(['run', failing], { STEADFAST_LOG_FORMAT: 'color' });
    expect([format.code, format.stderr]).toEqual([2, 'steadfast: STEADFAST_LOG_FORMAT must be one of auto, pretty, json, got "color"\n']);
  });
});
