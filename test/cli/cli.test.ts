import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/steadfast.js', import.meta.url).pathname;

async function steadfast(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the steadfast binary', () => {
  it('prints usage with --help and exits 0', async () => {
    const result = await steadfast('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: steadfast <command>/);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await steadfast('--version');
    expect(result).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('exits 2 with one line on stderr for an unknown command', async () => {
    const result = await steadfast('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('steadfast: unknown command "frobnicate"; see `steadfast --help`\n');
  });
});
