import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { CheckpointStoreError } from '../../src/core/errors.js';
import { collect, describeStoreConformance, rejection, snapshot } from './store-conformance.js';

let root = '';
let count = 0;
const freshDir = (): string => join(root, `db-${++count}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-level-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeStoreConformance('level', async (options = {}) => {
  const dir = freshDir();
  if (options.readOnly === true) {
    // a read-only store needs a database to open: create an empty one
    const writable = createCheckpointStore({ dir });
    await writable.open();
    await writable.close();
  }
  return createCheckpointStore({ dir, ...options });
});

const fixture = new URL('./fixtures/store-child.ts', import.meta.url).pathname;
const repo = new URL('../../', import.meta.url).pathname;

describe('level checkpoint store', () => {
  const stores: CheckpointStore[] = [];
  const children: ChildProcess[] = [];
  const store = (dir: string, options: Parameters<typeof createCheckpointStore>[0] = {}): CheckpointStore => {
    const made = createCheckpointStore({ dir, ...options });
    stores.push(made);
    return made;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  /** Starts the fixture in a real second process; resolves with it once it printed its first line. */
  function child(mode: string, dir: string): Promise<{ process: ChildProcess; line: string }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', fixture, mode, dir], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const end = out.indexOf('\n');
        if (end >= 0) resolve({ process: proc, line: out.slice(0, end) });
      });
      proc.on('exit', (code) => reject(new Error(`child ${mode} exited (${code}) before a line: ${err}`)));
    });
  }

  const exited = (proc: ChildProcess): Promise<void> =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((resolve) => proc.once('exit', () => resolve()));

  it('creates a missing directory, parents included, and keeps what it wrote across close and reopen', async () => {
    const dir = join(freshDir(), 'nested', 'store');
    const first = store(dir);
    expect(first.location).toBe(dir);
    await first.writeSnapshot(snapshot(1), { sync: true });
    await first.close();
    const second = store(dir, { readOnly: true });
    expect(await second.readSnapshot('orders', 'enrich', 1)).toMatchObject({ ok: true, value: snapshot(1) });
  });

  it('resolves a relative dir against the working directory', () => {
    const dir = freshDir();
    expect(createCheckpointStore({ dir: relative(process.cwd(), dir) }).location).toBe(dir);
  });

  it('fails at once with CHECKPOINT_STORE_LOCKED for a second store on the same dir in this process; the first keeps working', async () => {
    const dir = freshDir();
    const first = store(dir);
    await first.writeSnapshot(snapshot(1));
    const second = store(dir);
    const error = await rejection(() => second.open(), 'CHECKPOINT_STORE_LOCKED');
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as CheckpointStoreError).location).toBe(dir);
    expect(error.message).toBe(`checkpoint store at ${dir} is locked: another process (or store) has it open`);
    expect(second.isOpen).toBe(false);
    await first.writeSnapshot(snapshot(2));
    expect((await collect(first.snapshots('orders', 'enrich'))).length).toBe(2);
    await first.close();
    await second.open();
    expect(second.isOpen).toBe(true);
  });

  it('fails with CHECKPOINT_STORE_LOCKED in a second real process while this one holds the dir, and this one keeps working', async () => {
    const dir = freshDir();
    const mine = store(dir);
    await mine.writeSnapshot(snapshot(1), { sync: true });
    const { line, process: proc } = await child('probe', dir);
    await exited(proc);
    const outcome = JSON.parse(line) as { opened: boolean; code: string; name: string; location: string; ms: number };
    expect(outcome).toMatchObject({ opened: false, code: 'CHECKPOINT_STORE_LOCKED', name: 'CheckpointStoreError', location: dir });
    expect(outcome.ms).toBeLessThan(2_000);
    await mine.writeSnapshot(snapshot(2), { sync: true });
    expect((await collect(mine.snapshots('orders', 'enrich'))).map((r) => r.ok)).toEqual([true, true]);
  });

  it('fails at once with CHECKPOINT_STORE_LOCKED here while a real second process holds the dir', async () => {
    const dir = freshDir();
    const { line, process: proc } = await child('hold', dir);
    expect(line).toBe('ready');
    const started = performance.now();
    await rejection(() => store(dir).open(), 'CHECKPOINT_STORE_LOCKED');
    expect(performance.now() - started).toBeLessThan(2_000);
    proc.kill('SIGKILL');
    await exited(proc);
    const after = store(dir);
    await after.open();
    expect(after.isOpen).toBe(true);
  });

  it('opens and restores a valid older snapshot after a SIGKILLed writer and a log truncated at any offset', async () => {
    const dir = freshDir();
    const { line, process: proc } = await child('write-then-hang', dir);
    expect(line).toBe('ready');
    proc.kill('SIGKILL');
    await exited(proc);
    const logs = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
    const newest = logs.at(-1) as string;
    const size = (await stat(join(dir, newest))).size;
    expect(size).toBeGreaterThan(0);
    const offsets = [0, 1 + Math.floor(Math.random() * (size - 2)), size - 1];
    for (const offset of offsets) {
      const copy = `${dir}-cut-${offset}`;
      await cp(dir, copy, { recursive: true });
      await truncate(join(copy, newest), offset);
      const reopened = store(copy);
      const reads = await collect(reopened.snapshots('crash', 'count'));
      const found = reads.map((r) => (r.ok ? r.value.version : `bad ${r.key}: ${r.reason}`));
      expect(reads.every((r) => r.ok), `cut at ${offset} of ${size}: ${found.join(', ')}`).toBe(true);
      const newestVersion = found[0] as number;
      expect(newestVersion, `cut at ${offset} of ${size}`).toBeGreaterThanOrEqual(3);
      // the log replays in order: what survives is every version up to some point, no gaps
      expect(found).toEqual(Array.from({ length: newestVersion }, (_, i) => newestVersion - i));
      const restored = reads[0];
      expect(restored?.ok && restored.value.state).toMatchObject({ version: newestVersion });
      await reopened.writeSnapshot({ ...snapshot(newestVersion + 1), pipeline: 'crash', stage: 'count' }, { sync: true });
      await reopened.close();
    }
  });

  it('fails with CHECKPOINT_STORE_MISSING for readOnly on a missing dir, and does not create it', async () => {
    const dir = join(freshDir(), 'absent');
    const error = await rejection(() => store(dir, { readOnly: true }).open(), 'CHECKPOINT_STORE_MISSING');
    expect(error.message).toBe(`no checkpoint store at ${dir}`);
    expect((error as CheckpointStoreError).location).toBe(dir);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(dir, '..'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with CHECKPOINT_STORE_MISSING for readOnly on a dir that holds no database, leaving it empty', async () => {
    const dir = freshDir();
    await mkdir(dir);
    await rejection(() => store(dir, { readOnly: true }).open(), 'CHECKPOINT_STORE_MISSING');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with CHECKPOINT_STORE_MISSING when told not to create, without being read-only', async () => {
    const dir = freshDir();
    await rejection(() => store(dir, { createIfMissing: false }).writeSnapshot(snapshot(1)), 'CHECKPOINT_STORE_MISSING');
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with CHECKPOINT_STORE_FAILED when the dir is a file', async () => {
    const file = freshDir();
    await writeFile(file, 'not a directory');
    const error = await rejection(() => store(file).open(), 'CHECKPOINT_STORE_FAILED');
    expect(error.message).toContain(file);
  });

  it('rejects bad options with CONFIG_INVALID', () => {
    expect(() => createCheckpointStore({ kind: 'level' })).toThrow(/options.dir must be a non-empty path/);
    expect(() => createCheckpointStore({ dir: '' })).toThrow(/options.dir/);
    expect(() => createCheckpointStore({ kind: 'memory', dir: '/x' })).toThrow(/options.dir must be left out/);
    expect(() => createCheckpointStore({ dir: '/x', codec: 'yaml' as never })).toThrow(/options.codec must be one of 'json', 'v8'/);
    expect(() => createCheckpointStore({ dir: '/x', kind: 'redis' as never })).toThrow(/options.kind/);
    expect(() => createCheckpointStore({ dir: '/x', readOnly: 1 as never })).toThrow(/options.readOnly must be a boolean/);
    expect(() => createCheckpointStore({ dir: '/x', readOnly: true, createIfMissing: true })).toThrow(/options.createIfMissing cannot be true/);
    expect(() => createCheckpointStore({ dir: '/x', sync: true } as never)).toThrow(/options.sync is not a known option/);
  });
});
