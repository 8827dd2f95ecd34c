import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { CheckpointStore, CodecName, StoredDeadLetter } from '../../src/checkpoint/types.js';
import { letter } from '../checkpoint/store-conformance.js';
import { cli } from './capture-io.js';

let root = '';
let count = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-cli-dlq-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A closed store holding letters: orders/enrich at 3 and twice at 7, orders/count at 1, billing/charge at 2. */
async function storeDir(codec: CodecName = 'json', fill?: (store: CheckpointStore) => Promise<void>): Promise<string> {
  const dir = join(root, `store-${++count}`);
  const store = createCheckpointStore({ dir, codec });
  await store.putDeadLetter(letter(7));
  await store.putDeadLetter(letter(3, { error: { name: 'RangeError', code: 'STAGE_CALL_FAILED', message: 'too\nbig' } }));
  await store.putDeadLetter(letter(7, { attempts: 1 }));
  await store.putDeadLetter(letter(1, { stage: 'count' }));
  await store.putDeadLetter(letter(2, { pipeline: 'billing', stage: 'charge' }));
  await fill?.(store);
  await store.close();
  return dir;
}

async function storedLetters(dir: string): Promise<StoredDeadLetter[]> {
  const store = createCheckpointStore({ dir });
  try {
    return (await store.deadLetters()).flatMap((read) => (read.ok ? [read.value] : []));
  } finally {
    await store.close();
  }
}

describe('steadfast dlq list', () => {
  it('prints the letters as a table in key order', async () => {
    const dir = await storeDir();
    const run = await cli('dlq', 'list', dir);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PIPELINE\s+STAGE\s+OFFSET\s+ATTEMPTS\s+AT\s+REPLAY\s+ERROR$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['billing', 'charge', '2', '3'],
      ['orders', 'count', '1', '3'],
      ['orders', 'enrich', '3', '3'],
      ['orders', 'enrich', '7', '3'],
      ['orders', 'enrich', '7', '1'],
    ]);
    expect(lines[3]).toMatch(/2023-11-14T22:13:20\.000Z\s+no\s+RangeError STAGE_CALL_FAILED: too big$/);
  });

  it('prints one JSON object per line with --json, filtered by --pipeline and --stage', async () => {
    const dir = await storeDir();
    const run = await cli('dlq', 'list', dir, '--json', '--pipeline', 'orders', '--stage', 'enrich');
    expect(run.code).toBe(0);
    const letters = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as StoredDeadLetter);
    expect(letters.map((l) => l.key)).toEqual(['dlq!orders!enrich!0000000000000003', 'dlq!orders!enrich!0000000000000007', 'dlq!orders!enrich!0000000000000007~1']);
    expect(letters[2]).toEqual({ ...letter(7, { attempts: 1 }), error: { name: 'TypeError', message: 'bad input' }, key: 'dlq!orders!enrich!0000000000000007~1' });
  });

  it('says so when there are none', async () => {
    const dir = await storeDir();
    expect(await cli('dlq', 'list', dir, '--pipeline', 'nobody')).toEqual({ code: 0, stdout: `no dead letters in ${dir}\n`, stderr: '' });
    expect(await cli('dlq', 'list', dir, '--pipeline', 'nobody', '--json')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('does not decode v8 letters without --trust, and decodes them with it', async () => {
    const dir = await storeDir('v8', (store) => store.putDeadLetter(letter(9, { event: { id: 9n } })).then(() => undefined));
    const untrusted = await cli('dlq', 'list', dir, '--stage', 'enrich');
    expect(untrusted.code).toBe(0);
    expect(untrusted.stdout.split('\n').filter((line) => line.includes('pass --trust'))).toEqual([
      'dlq!orders!enrich!0000000000000003: v8 payload: pass --trust to decode',
      'dlq!orders!enrich!0000000000000007: v8 payload: pass --trust to decode',
      'dlq!orders!enrich!0000000000000007~1: v8 payload: pass --trust to decode',
      'dlq!orders!enrich!0000000000000009: v8 payload: pass --trust to decode',
    ]);
    const json = await cli('dlq', 'list', dir, '--json', '--stage', 'enrich');
    expect(JSON.parse(json.stdout.split('\n')[0] as string)).toEqual({ key: 'dlq!orders!enrich!0000000000000003', problem: 'v8 payload: pass --trust to decode' });
    const trusted = await cli('dlq', 'list', dir, '--json', '--trust', '--stage', 'enrich');
    expect(JSON.parse(trusted.stdout.trimEnd().split('\n').at(-1) as string)).toMatchObject({ offset: 9, event: { id: '9n' } });
  });

  it('fails with one line and exit 1 for a missing dir, creating nothing', async () => {
    const dir = join(root, 'not-a-store');
    expect(await cli('dlq', 'list', dir)).toEqual({ code: 1, stdout: '', stderr: `steadfast: no checkpoint store at ${dir}\n` });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('steadfast dlq replay', () => {
  it('marks the matching letters for replay and says the pipeline re-injects them at its next start', async () => {
    const dir = await storeDir();
    const run = await cli('dlq', 'replay', dir, '--pipeline', 'orders', '--stage', 'enrich');
    expect(run).toEqual({ code: 0, stdout: 'marked 3 dead letters for replay; the pipeline re-injects marked letters at its next start\n', stderr: '' });
    const marked = (await storedLetters(dir)).map((l) => [l.pipeline, l.stage, l.offset, l.replay === true]);
    expect(marked).toEqual([
      ['billing', 'charge', 2, false],
      ['orders', 'count', 1, false],
      ['orders', 'enrich', 3, true],
      ['orders', 'enrich', 7, true],
      ['orders', 'enrich', 7, true],
    ]);
    expect((await cli('dlq', 'list', dir, '--stage', 'enrich')).stdout).toMatch(/\s+yes\s+/);
  });

  it('counts letters already marked instead of marking them again', async () => {
    const dir = await storeDir();
    await cli('dlq', 'replay', dir, '--pipeline', 'billing');
    expect((await cli('dlq', 'replay', dir)).stdout).toBe('marked 4 dead letters for replay (1 already marked); the pipeline re-injects marked letters at its next start\n');
  });

  it('leaves v8 letters unmarked without --trust, reports them and exits 1; marks them with --trust', async () => {
    const dir = await storeDir('v8');
    const untrusted = await cli('dlq', 'replay', dir, '--pipeline', 'billing');
    expect(untrusted).toEqual({
      code: 1,
      stdout: 'not marked dlq!billing!charge!0000000000000002: v8 payload: pass --trust to decode\nmarked 0 dead letters for replay; the pipeline re-injects marked letters at its next start\n',
      stderr: '',
    });
    expect((await storedLetters(dir)).some((l) => l.replay === true)).toBe(false);
    expect((await cli('dlq', 'replay', dir, '--pipeline', 'billing', '--trust')).code).toBe(0);
    expect((await storedLetters(dir)).filter((l) => l.replay === true).map((l) => l.pipeline)).toEqual(['billing']);
  });

  it('reports a corrupt letter and marks the others', async () => {
    const dir = await storeDir('json', (store) => store.putRaw('dlq!orders!enrich!0000000000000099', new TextEncoder().encode('junk')));
    const run = await cli('dlq', 'replay', dir, '--stage', 'enrich');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'not marked dlq!orders!enrich!0000000000000099: bad header: expected 16 lowercase hex digits and a space\nmarked 3 dead letters for replay; the pipeline re-injects marked letters at its next start\n',
    );
  });

  it('fails with one line and exit 1 for a missing dir, creating nothing', async () => {
    const dir = join(root, 'absent-for-replay');
    expect(await cli('dlq', 'replay', dir)).toEqual({ code: 1, stdout: '', stderr: `steadfast: no checkpoint store at ${dir}\n` });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('steadfast dlq usage', () => {
  it.each([
    [['dlq'], 'dlq needs a subcommand: list or replay'],
    [['dlq', 'purge', '/x'], 'unknown subcommand "purge"'],
    [['dlq', 'list'], 'dlq list needs a store directory'],
    [['dlq', 'replay', '/x', '--json'], 'unknown option "--json"'],
    [['dlq', 'list', '/x', '--pipeline'], 'option "--pipeline" needs a value'],
  ])('exits 2 with one line for %j', async (argv, problem) => {
    expect(await cli(...argv)).toEqual({ code: 2, stdout: '', stderr: `steadfast: ${problem}; see \`steadfast dlq --help\`\n` });
  });

  it('prints its help with --help', async () => {
    const help = await cli('dlq', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: steadfast dlq list <dir>/);
    expect(help.stdout).toContain('re-injects marked letters at its next start');
  });
});

describe('the steadfast binary (built dist/)', () => {
  it('lists dead letters as JSON lines, in a separate process', async () => {
    const dir = await storeDir();
    const bin = new URL('../../bin/steadfast.js', import.meta.url).pathname;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'dlq', 'list', dir, '--json', '--pipeline', 'billing']);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toMatchObject({ pipeline: 'billing', stage: 'charge', offset: 2, key: 'dlq!billing!charge!0000000000000002' });
  });
});

describe('steadfast dlq list into a pipe closed early', () => {
  it('exits 0 without a word when its reader goes away (`| head -1`)', { timeout: 60_000 }, async () => {
    // More than a pipe holds (64 KiB), so that writing meets the closed pipe.
    const dir = await storeDir('json', async (store) => {
      for (let i = 0; i < 2_000; i++) await store.putDeadLetter(letter(100 + i, { error: { name: 'Error', code: 'STAGE_CALL_FAILED', message: `failure number ${i} `.padEnd(80, '.') } }));
    });
    const bin = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
    for (const extra of [[], ['--json']]) {
      const child = spawn(process.execPath, [bin, 'dlq', 'list', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      // Read the first chunk, then close the read end, as `head -1` does once it has its line.
      const first = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
      child.stdout.destroy();
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      expect(first.length).toBeGreaterThan(0);
      expect({ ...exit, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    }
  });
});
