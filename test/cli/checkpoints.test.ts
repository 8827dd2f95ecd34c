import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { seal } from '../../src/checkpoint/envelope.js';
import { findRestorePoint } from '../../src/checkpoint/restore.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { collect, done, snapshot } from '../checkpoint/store-conformance.js';
import { cli } from './capture-io.js';

let root = '';
let count = 0;
const open: CheckpointStore[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-cli-ckpt-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A store directory filled by `fill`, then closed so that the CLI can open it. */
async function storeDir(fill: (store: CheckpointStore) => Promise<void> = async () => {}, codec: 'json' | 'v8' = 'json'): Promise<string> {
  const dir = join(root, `store-${++count}`);
  const store = createCheckpointStore({ dir, codec });
  await store.open();
  await fill(store);
  await store.close();
  return dir;
}

/** orders: enrich v1-v3, count v2-v3, completed checkpoints 2 and 3. */
const standard = async (store: CheckpointStore): Promise<void> => {
  for (const v of [1, 2, 3]) await store.writeSnapshot(snapshot(v));
  for (const v of [2, 3]) await store.writeSnapshot(snapshot(v, { stage: 'count', state: { total: v * 100 } }));
  await store.completeCheckpoint(done(2, 'cp-two'));
  await store.completeCheckpoint(done(3, 'cp-three'));
};

/** Runs `work` on the closed store at `dir`, then closes it again. */
async function reopen(dir: string, work: (store: CheckpointStore) => Promise<void>): Promise<void> {
  const store = createCheckpointStore({ dir });
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

async function flipNewest(dir: string, pipeline = 'orders', stage = 'enrich'): Promise<string> {
  let key = '';
  await reopen(dir, async (store) => {
    const [newest] = await collect(store.snapshots(pipeline, stage));
    key = newest?.key ?? '';
    const [raw] = await collect(store.entries(key));
    const bytes = (raw?.value ?? new Uint8Array()).slice();
    bytes[30] = (bytes[30] as number) ^ 1;
    await store.putRaw(key, bytes);
  });
  return key;
}

describe('steadfast checkpoints list', () => {
  it('prints every pipeline, stage, version, offset and size, and the completed checkpoints', async () => {
    const dir = await storeDir(standard);
    const run = await cli('checkpoints', 'list', dir);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Snapshots');
    expect(lines[1]).toMatch(/^PIPELINE\s+STAGE\s+VERSION\s+OFFSET\s+BYTES\s+CREATED\s+STATUS$/);
    const rows = lines.slice(2, 7).map((line) => line.split(/\s+/));
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['orders', 'count', '3', '29'],
      ['orders', 'count', '2', '19'],
      ['orders', 'enrich', '3', '29'],
      ['orders', 'enrich', '2', '19'],
      ['orders', 'enrich', '1', '9'],
    ]);
    for (const row of rows) {
      expect(Number(row[4])).toBeGreaterThan(60);
      expect(row[5]).toMatch(/^2023-11-14T22:13:20\.00\dZ$/);
      expect(row[6]).toBe('ok');
    }
    expect(run.stdout).toContain('\nCompleted checkpoints\n');
    expect(run.stdout).toMatch(/\norders\s+3\s+29\s+cp-three\s+\S+\s+enrich,count\s+ok\norders\s+2\s+19\s+cp-two\s/);
  });

  it('prints JSON with --json', async () => {
    const dir = await storeDir(standard);
    const run = await cli('checkpoints', 'list', dir, '--json');
    expect(run.code).toBe(0);
    const listing = JSON.parse(run.stdout) as { location: string; pipelines: Array<{ pipeline: string; stages: Array<{ stage: string; snapshots: Array<{ version: number; offset: number; bytes: number; ok: boolean }> }>; completed: Array<{ checkpointId: string; version: number }> }> };
    expect(listing.location).toBe(dir);
    expect(listing.pipelines).toHaveLength(1);
    const [orders] = listing.pipelines;
    expect(orders?.stages.map((s) => [s.stage, s.snapshots.map((v) => v.version)])).toEqual([
      ['count', [3, 2]],
      ['enrich', [3, 2, 1]],
    ]);
    expect(orders?.stages[1]?.snapshots[0]).toMatchObject({ key: 'ckpt!orders!enrich!0000000000000003', version: 3, offset: 29, ok: true, checkpointId: 'cp-3' });
    expect(orders?.completed.map((c) => [c.checkpointId, c.version])).toEqual([
      ['cp-three', 3],
      ['cp-two', 2],
    ]);
  });

  it('marks a corrupt snapshot in its row, with the reason', async () => {
    const dir = await storeDir(standard);
    await flipNewest(dir);
    const run = await cli('checkpoints', 'list', dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\norders\s+enrich\s+3\s+-\s+\d+\s+-\s+checksum mismatch: expected [0-9a-f]{16}, actual [0-9a-f]{16}\n/);
  });

  it('says so for a store without checkpoints', async () => {
    const dir = await storeDir();
    expect(await cli('checkpoints', 'list', dir)).toEqual({ code: 0, stdout: `no checkpoints in ${dir}\n`, stderr: '' });
  });

  it('fails with one line and exit 1 for a missing dir, resolving the path and creating nothing', async () => {
    const dir = join(root, 'never-made');
    const run = await cli('checkpoints', 'list', relative(process.cwd(), dir));
    expect(run).toEqual({ code: 1, stdout: '', stderr: `steadfast: no checkpoint store at ${dir}\n` });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with one line and exit 1 for a store another process or store holds, a stack only with --verbose', async () => {
    const dir = await storeDir(standard);
    const holder = createCheckpointStore({ dir });
    open.push(holder);
    await holder.open();
    const run = await cli('checkpoints', 'list', dir);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `steadfast: checkpoint store at ${dir} is locked: another process (or store) has it open\n` });
    const verbose = await cli('checkpoints', 'verify', dir, '--verbose');
    expect(verbose.code).toBe(1);
    const lines = verbose.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`steadfast: checkpoint store at ${dir} is locked: another process (or store) has it open`);
    expect(lines[1]).toMatch(/^CheckpointStoreError: /);
    expect(lines.some((line) => /^\s+at /.test(line))).toBe(true);
  });
});

describe('steadfast checkpoints verify', () => {
  it('counts the entries and exits 0 when every checksum matches', async () => {
    const dir = await storeDir(standard);
    // 5 snapshots, 2 meta records, 2 done markers
    expect(await cli('checkpoints', 'verify', dir)).toEqual({ code: 0, stdout: '9 entries verified, none corrupt\n', stderr: '' });
  });

  it('prints each corrupt key and exits 1', async () => {
    const dir = await storeDir(standard);
    const key = await flipNewest(dir);
    const countKey = await flipNewest(dir, 'orders', 'count');
    await reopen(dir, (store) => store.putRaw('done!orders!junk', new TextEncoder().encode('not sealed')));
    const run = await cli('checkpoints', 'verify', dir);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^corrupt ${countKey}: checksum mismatch: expected [0-9a-f]{16}, actual [0-9a-f]{16}$`)),
      expect.stringMatching(new RegExp(`^corrupt ${key}: checksum mismatch: `)),
      'corrupt done!orders!junk: bad header: expected 16 lowercase hex digits and a space',
      '3 of 10 entries corrupt',
    ]);
  });

  it('checks v8 checksums without decoding them unless --trust is given', async () => {
    const dir = await storeDir(async (store) => {
      await store.writeSnapshot(snapshot(1, { state: { n: 1n } }));
      // a sound checksum over a payload v8 cannot decode: only decoding can tell
      await store.putRaw('ckpt!orders!enrich!0000000000000002', seal('v8', Uint8Array.from([0xff, 0x0f, 0x6f, 0x22])));
    }, 'v8');
    expect(await cli('checkpoints', 'verify', dir)).toEqual({
      code: 0,
      stdout: '3 entries verified, none corrupt (2 v8 payloads checked but not decoded: pass --trust to decode)\n',
      stderr: '',
    });
    const trusted = await cli('checkpoints', 'verify', dir, '--trust');
    expect(trusted.code).toBe(1);
    expect(trusted.stdout).toMatch(/^corrupt ckpt!orders!enrich!0000000000000002: v8 decode failed: .+\n1 of 3 entries corrupt\n$/);
  });
});

describe('steadfast checkpoints show', () => {
  it('prints the newest snapshot of every stage as JSON', async () => {
    const dir = await storeDir(standard);
    const run = await cli('checkpoints', 'show', dir);
    expect(run.code).toBe(0);
    const shown = JSON.parse(run.stdout) as Array<{ key: string; checksum: string; bytes: number; snapshot: unknown }>;
    expect(shown.map((s) => s.key)).toEqual(['ckpt!orders!count!0000000000000003', 'ckpt!orders!enrich!0000000000000003']);
    expect(shown[1]?.snapshot).toEqual(snapshot(3));
    expect(shown[0]?.checksum).toMatch(/^[0-9a-f]{16}$/);
  });

  it('filters by --pipeline, --stage and --version, and prints every version with --all', async () => {
    const dir = await storeDir(standard);
    const one = JSON.parse((await cli('checkpoints', 'show', dir, '--pipeline', 'orders', '--stage', 'enrich', '--version', '1')).stdout) as Array<{ snapshot: unknown }>;
    expect(one).toEqual([expect.objectContaining({ key: 'ckpt!orders!enrich!0000000000000001', snapshot: snapshot(1) })]);
    const all = JSON.parse((await cli('checkpoints', 'show', dir, '--stage=enrich', '--all')).stdout) as Array<{ key: string }>;
    expect(all.map((s) => s.key.slice(-1))).toEqual(['3', '2', '1']);
  });

  it('shows a corrupt newest snapshot as a problem and goes on to the older one, as a restore would', async () => {
    const dir = await storeDir(standard);
    const key = await flipNewest(dir);
    const shown = JSON.parse((await cli('checkpoints', 'show', dir, '--stage', 'enrich')).stdout) as Array<{ key: string; problem?: string }>;
    expect(shown).toEqual([
      { key, problem: expect.stringMatching(/^checksum mismatch/) },
      expect.objectContaining({ key: 'ckpt!orders!enrich!0000000000000002', snapshot: snapshot(2) }),
    ]);
  });

  it('fails with exit 1 when nothing matches', async () => {
    const dir = await storeDir(standard);
    expect(await cli('checkpoints', 'show', dir, '--pipeline', 'nope', '--version', '9')).toEqual({
      code: 1,
      stdout: '',
      stderr: `steadfast: no snapshots of pipeline "nope", version 9 in ${dir}\n`,
    });
  });

  it('does not decode v8 snapshots without --trust, and shows them as JSON with it', async () => {
    const state: Record<string, unknown> = { big: 2n ** 70n, seen: new Map([['a', 1]]), tags: new Set(['x']) };
    state.self = state;
    const dir = await storeDir((store) => store.writeSnapshot(snapshot(1, { state })).then(() => undefined), 'v8');
    const untrusted = await cli('checkpoints', 'show', dir);
    expect(untrusted.code).toBe(0);
    expect(JSON.parse(untrusted.stdout)).toEqual([{ key: 'ckpt!orders!enrich!0000000000000001', problem: 'v8 payload: pass --trust to decode' }]);
    const trusted = JSON.parse((await cli('checkpoints', 'show', dir, '--trust')).stdout) as Array<{ snapshot: { state: unknown } }>;
    expect(trusted[0]?.snapshot.state).toEqual({ big: '1180591620717411303424n', seen: [['a', 1]], tags: ['x'], self: '[Circular]' });
  });
});

describe('steadfast checkpoints prune', () => {
  const summary = (snapshots: string, markers: string, keep = 1): string =>
    `pruned ${snapshots} and ${markers}; kept the newest ${keep} complete checkpoint${keep === 1 ? '' : 's'} that verify, and everything newer\n`;

  it('keeps the newest n complete checkpoints, with their snapshots, and deletes what is older', async () => {
    const dir = await storeDir(standard);
    const run = await cli('checkpoints', 'prune', dir, '--keep', '1');
    expect(run).toEqual({ code: 0, stdout: summary('3 snapshots', '1 completed-checkpoint marker'), stderr: '' });
    await reopen(dir, async (store) => {
      expect((await collect(store.entries('ckpt!'))).map((e) => e.key)).toEqual(['ckpt!orders!count!0000000000000003', 'ckpt!orders!enrich!0000000000000003']);
      expect((await collect(store.completed('orders'))).map((r) => r.key)).toEqual(['done!orders!cp-three']);
    });
  });

  it('never deletes the last restorable checkpoint when the newest snapshot is corrupt: a restore still finds it', async () => {
    const dir = await storeDir(standard);
    const key = await flipNewest(dir);
    const run = await cli('checkpoints', 'prune', dir, '--keep=1');
    expect(run).toEqual({ code: 0, stdout: summary('1 snapshot', '0 completed-checkpoint markers'), stderr: '' });
    await reopen(dir, async (store) => {
      expect((await collect(store.entries('ckpt!'))).map((e) => e.key)).toEqual([
        'ckpt!orders!count!0000000000000002',
        'ckpt!orders!count!0000000000000003',
        'ckpt!orders!enrich!0000000000000002',
        key,
      ]);
      expect((await collect(store.completed('orders'))).map((r) => r.key)).toEqual(['done!orders!cp-three', 'done!orders!cp-two']);
      const found = await findRestorePoint(store, 'orders', ['enrich', 'count']);
      expect(found.point?.done.version).toBe(2);
      expect(found.point?.states).toEqual(new Map<string, unknown>([['enrich', { count: 2 }], ['count', { total: 200 }]]));
    });
  });

  it('does not count a checkpoint missing one of its snapshots, nor one whose marker is unreadable', async () => {
    const dir = await storeDir(async (store) => {
      for (const v of [1, 2, 3, 4]) await store.writeSnapshot(snapshot(v));
      for (const v of [1, 2, 4]) await store.writeSnapshot(snapshot(v, { stage: 'count', state: { total: v * 100 } }));
      for (const v of [1, 2, 3, 4]) await store.completeCheckpoint(done(v, `cp-${v}`));
      // Checkpoint 4's marker is damaged; checkpoint 3 has no count snapshot: 2 is the newest whole one.
      const [raw] = await collect(store.entries('done!orders!cp-4'));
      const bytes = (raw?.value ?? new Uint8Array()).slice();
      bytes[30] = (bytes[30] as number) ^ 1;
      await store.putRaw('done!orders!cp-4', bytes);
    });
    expect((await cli('checkpoints', 'prune', dir, '--keep', '1')).stdout).toBe(summary('2 snapshots', '1 completed-checkpoint marker'));
    await reopen(dir, async (store) => {
      expect((await collect(store.entries('ckpt!'))).map((e) => e.key.slice('ckpt!orders!'.length))).toEqual([
        'count!0000000000000002',
        'count!0000000000000004',
        'enrich!0000000000000002',
        'enrich!0000000000000003',
        'enrich!0000000000000004',
      ]);
      expect((await collect(store.entries('done!'))).map((e) => e.key)).toEqual(['done!orders!cp-2', 'done!orders!cp-3', 'done!orders!cp-4']);
      expect((await findRestorePoint(store, 'orders', ['enrich', 'count'])).point?.done.version).toBe(2);
    });
  });

  it('keeps everything of a pipeline none of whose checkpoints verifies, and says so', async () => {
    const dir = await storeDir(async (store) => {
      for (const v of [1, 2]) await store.writeSnapshot(snapshot(v));
      for (const v of [1, 2]) await store.completeCheckpoint(done(v, `cp-${v}`));
    });
    const run = await cli('checkpoints', 'prune', dir, '--keep', '1');
    expect(run.stdout).toBe(`kept everything of pipeline "orders": none of its completed checkpoints verifies whole\n${summary('0 snapshots', '0 completed-checkpoint markers')}`);
    await reopen(dir, async (store) => expect(await collect(store.entries('ckpt!'))).toHaveLength(2));
  });

  it('prunes per stage the snapshots of a pipeline without markers, counting only good versions', async () => {
    const dir = await storeDir(async (store) => {
      for (const v of [1, 2, 3]) await store.writeSnapshot(snapshot(v, { pipeline: 'bare' }));
    });
    const newest = await flipNewest(dir, 'bare');
    expect((await cli('checkpoints', 'prune', dir, '--keep', '1')).stdout).toBe(summary('1 snapshot', '0 completed-checkpoint markers'));
    await reopen(dir, async (store) => {
      expect((await collect(store.entries('ckpt!'))).map((e) => e.key)).toEqual(['ckpt!bare!enrich!0000000000000002', newest]);
    });
  });

  it('prunes nothing when no pipeline has more than n complete checkpoints', async () => {
    const dir = await storeDir(standard);
    expect((await cli('checkpoints', 'prune', dir, '--keep', '5')).stdout).toBe(summary('0 snapshots', '0 completed-checkpoint markers', 5));
  });

  it('fails with one line and exit 1 for a missing dir, creating nothing', async () => {
    const dir = join(root, 'absent-for-prune');
    expect(await cli('checkpoints', 'prune', dir, '--keep', '1')).toEqual({ code: 1, stdout: '', stderr: `steadfast: no checkpoint store at ${dir}\n` });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('steadfast checkpoints usage', () => {
  it.each([
    [['checkpoints'], 'checkpoints needs a subcommand: list, verify, show, diff, fork, prune or repair'],
    [['checkpoints', 'frob', '/x'], 'unknown subcommand "frob"'],
    [['checkpoints', 'list'], 'checkpoints list needs a store directory'],
    [['checkpoints', 'list', '/x', '/y'], 'unexpected argument "/y"'],
    [['checkpoints', 'list', '/x', '--color'], 'unknown option "--color"'],
    [['checkpoints', 'verify', '/x', '--json'], 'unknown option "--json"'],
    [['checkpoints', 'list', '/x', '-q'], 'unknown option "-q"'],
    [['checkpoints', 'prune', '/x'], 'checkpoints prune needs --keep n'],
    [['checkpoints', 'prune', '/x', '--keep', '0'], 'option "--keep" must be an integer >= 1, got "0"'],
    [['checkpoints', 'prune', '/x', '--keep'], 'option "--keep" needs a value'],
    [['checkpoints', 'show', '/x', '--version', '1.5'], 'option "--version" must be an integer >= 0, got "1.5"'],
    [['checkpoints', 'show', '/x', '--stage', 'a', '--stage', 'b'], 'option "--stage" given twice'],
    [['checkpoints', 'list', '/x', '--json=yes'], 'option "--json" takes no value'],
  ])('exits 2 with one line for %j', async (argv, problem) => {
    expect(await cli(...argv)).toEqual({ code: 2, stdout: '', stderr: `steadfast: ${problem}; see \`steadfast checkpoints --help\`\n` });
  });

  it('prints its help with --help, and main lists the command', async () => {
    const help = await cli('checkpoints', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: steadfast checkpoints list <dir>/);
    expect((await cli('checkpoints', 'prune', '-h')).stdout).toBe(help.stdout);
    expect((await cli('--help')).stdout).toContain('  checkpoints list|verify|show|diff|fork|prune|repair <dir>\n');
  });
});

describe('the steadfast binary (built dist/)', () => {
  const run = promisify(execFile);
  const bin = new URL('../../bin/steadfast.js', import.meta.url).pathname;

  it('verifies a store and lists it, in a separate process', async () => {
    const dir = await storeDir(standard);
    const verified = await run(process.execPath, [bin, 'checkpoints', 'verify', dir]);
    expect(verified).toEqual({ stdout: '9 entries verified, none corrupt\n', stderr: '' });
    const missing = await run(process.execPath, [bin, 'checkpoints', 'list', join(dir, 'nope')]).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: `steadfast: no checkpoint store at ${join(dir, 'nope')}\n` });
  });
});
