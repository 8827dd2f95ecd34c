// `steadfast checkpoints list|show --at|diff|fork` as users run them: the real binary (bin/steadfast.js
// → dist/, built by `npm run build`) in child processes, on LevelDB stores written by real pipelines.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { checkpointHistory, readCheckpointStates, wholeStates, type CheckpointRecord } from '../../src/checkpoint/history.js';
import { applyJsonDiff, type JsonChange } from '../../src/checkpoint/json-diff.js';
import type { CheckpointStore, RawEntry } from '../../src/checkpoint/types.js';
import { events, whatIfPipeline, writeOriginal, type Tally } from '../helpers/what-if.js';
import { collect } from '../checkpoint/store-conformance.js';

const execute = promisify(execFile);
const bin = new URL('../../bin/steadfast.js', import.meta.url).pathname;

async function steadfast(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let root = '';
let count = 0;
const fresh = (): string => join(root, `dir-${++count}`);
const COUNT = 120;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-cli-travel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function withStore<T>(dir: string, work: (store: CheckpointStore) => Promise<T>): Promise<T> {
  const store = createCheckpointStore({ dir });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** A store written by version 1 of the what-if pipeline over COUNT events, and its history (newest first). */
async function originalStore(): Promise<{ dir: string; history: CheckpointRecord[] }> {
  const dir = fresh();
  await writeOriginal(dir);
  const history = await withStore(dir, (store) => checkpointHistory(store, 'orders'));
  expect(history.map((r) => r.offset)).toEqual([119, 89, 59, 29]);
  return { dir, history };
}

const everything = (dir: string): Promise<RawEntry[]> => withStore(dir, (store) => collect(store.entries()));

describe('steadfast checkpoints list (history)', () => {
  it('shows each kept checkpoint with id, version, time, committed offset, snapshot bytes and whether it verifies', async () => {
    const { dir, history } = await originalStore();
    const run = await steadfast('checkpoints', 'list', dir);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [, table = ''] = run.stdout.split('\nCheckpoints (newest first; a run restored from one replays the source after its offset)\n');
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PIPELINE\s+CHECKPOINT\s+VERSION\s+CREATED\s+OFFSET\s+BYTES\s+VERIFIES$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual(
      history.map((r) => ['orders', r.checkpointId, String(r.version), new Date(r.createdAt).toISOString(), String(r.offset), String(r.bytes), 'yes']),
    );
    // The bytes are the snapshot rows' of that version.
    const newest = history[0] as CheckpointRecord;
    const row = run.stdout.match(new RegExp(`\\norders\\s+tally\\s+${newest.version}\\s+${newest.offset}\\s+(\\d+)\\s`));
    expect(Number(row?.[1])).toBe(newest.bytes);

    const json = JSON.parse((await steadfast('checkpoints', 'list', dir, '--json')).stdout) as { pipelines: Array<{ checkpoints: CheckpointRecord[] }> };
    expect(json.pipelines[0]?.checkpoints).toEqual(history);
  });

  it('says which snapshot keeps a checkpoint from verifying', async () => {
    const { dir, history } = await originalStore();
    const bad = history[1] as CheckpointRecord;
    const key = `ckpt!orders!tally!${String(bad.version).padStart(16, '0')}`;
    await withStore(dir, async (store) => {
      const [raw] = await collect(store.entries(key));
      const bytes = (raw as RawEntry).value.slice();
      bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 1;
      await store.putRaw(key, bytes);
    });
    const run = await steadfast('checkpoints', 'list', dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`\\norders\\s+${bad.checkpointId}\\s+${bad.version}\\s.*\\sno: ${key}: checksum mismatch: expected [0-9a-f]{16}, actual [0-9a-f]{16}\\n`));
    expect(run.stdout).toMatch(new RegExp(`\\norders\\s+${(history[0] as CheckpointRecord).checkpointId}\\s.*\\syes\\n`));
    // show --at shows the problem in place of the state; diff refuses the checkpoint, naming the key.
    const show = await steadfast('checkpoints', 'show', dir, '--at', bad.checkpointId);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual([{ key, problem: expect.stringMatching(/^checksum mismatch/) }]);
    const diff = await steadfast('checkpoints', 'diff', dir, bad.checkpointId, (history[0] as CheckpointRecord).checkpointId);
    expect(diff.code).toBe(1);
    expect(diff.stderr).toMatch(new RegExp(`^steadfast: checkpoint "${bad.checkpointId}" \\(version ${bad.version}\\) of pipeline "orders" does not verify whole: ${key}: checksum mismatch: .*\\n$`));
  });
});

describe('steadfast checkpoints show --at and diff', () => {
  it('shows any stage at any kept checkpoint, and diffs two: the changes applied to a give b', async () => {
    const { dir, history } = await originalStore();
    const [b, a] = [history[0] as CheckpointRecord, history.at(-1) as CheckpointRecord];
    const shownAt = async (id: string): Promise<{ snapshot: { version: number; state: { value: Tally } } }> => {
      const run = await steadfast('checkpoints', 'show', dir, '--at', id, '--stage', 'tally');
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const [only, ...rest] = JSON.parse(run.stdout) as Array<{ snapshot: { version: number; state: { value: Tally } } }>;
      expect(rest).toEqual([]);
      return only as { snapshot: { version: number; state: { value: Tally } } };
    };
    const older = await shownAt(a.checkpointId);
    const newer = await shownAt(b.checkpointId);
    expect(older.snapshot.version).toBe(a.version);
    // The stage state at a checkpoint covers the events up to its offset.
    expect(older.snapshot.state.value).toEqual({ n: a.offset + 1, sum: ((a.offset + 1) * a.offset) / 2 });
    expect(newer.snapshot.state.value).toEqual({ n: b.offset + 1, sum: ((b.offset + 1) * b.offset) / 2 });

    const text = await steadfast('checkpoints', 'diff', dir, a.checkpointId, b.checkpointId);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(
      [
        `pipeline "orders": ${a.checkpointId} (version ${a.version}, offset ${a.offset}) -> ${b.checkpointId} (version ${b.version}, offset ${b.offset})`,
        'stage "tally": 2 changes',
        `  ~ value.n: ${a.offset + 1} -> ${b.offset + 1}`,
        `  ~ value.sum: ${older.snapshot.state.value.sum} -> ${newer.snapshot.state.value.sum}`,
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await steadfast('checkpoints', 'diff', dir, a.checkpointId, b.checkpointId, '--json')).stdout) as { stages: Array<{ stage: string; status: string; changes: JsonChange[] }> };
    expect(json.stages.map((s) => [s.stage, s.status])).toEqual([['tally', 'changed']]);
    expect(applyJsonDiff(older.snapshot.state, json.stages[0]?.changes ?? [])).toEqual(newer.snapshot.state);
    expect((await steadfast('checkpoints', 'diff', dir, b.checkpointId, b.checkpointId)).stdout).toMatch(/\nstage "tally": no change\n$/);
  });

  it('fails with exit 1 naming the kept ids for an unknown id, and exit 2 for a malformed command', async () => {
    const { dir, history } = await originalStore();
    const unknown = await steadfast('checkpoints', 'show', dir, '--at', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(new RegExp(`^steadfast: no completed checkpoint "nope" in ${dir}: it keeps ${history.map((r) => `${r.checkpointId} \\("orders" version ${r.version}\\)`).join(', ')}\\n$`));
    const diff = await steadfast('checkpoints', 'diff', dir, (history[0] as CheckpointRecord).checkpointId, 'nope');
    expect(diff).toMatchObject({ code: 1, stdout: '' });
    expect(diff.stderr).toMatch(/^steadfast: no completed checkpoint "nope" /);
    const stage = await steadfast('checkpoints', 'show', dir, '--at', (history[0] as CheckpointRecord).checkpointId, '--stage', 'other');
    expect(stage).toEqual({ code: 1, stdout: '', stderr: `steadfast: checkpoint "${(history[0] as CheckpointRecord).checkpointId}" of pipeline "orders" has no stage "other": it holds "tally"\n` });
    expect(await steadfast('checkpoints', 'diff', dir, 'only-one')).toEqual({ code: 2, stdout: '', stderr: 'steadfast: checkpoints diff needs <a> <b> after the store directory; see `steadfast checkpoints --help`\n' });
    expect((await steadfast('checkpoints', 'show', dir, '--at', 'x', '--version', '1')).code).toBe(2);
  });
});

describe('steadfast checkpoints fork', () => {
  it('forks an older checkpoint: a run on the fork equals a run restored from it, and the original is untouched', async () => {
    const { dir, history } = await originalStore();
    const at = history.at(-1) as CheckpointRecord;
    const before = await everything(dir);
    const to = fresh();
    const run = await steadfast('checkpoints', 'fork', dir, '--at', at.checkpointId, '--to', to);
    expect(run).toEqual({
      code: 0,
      stdout: `forked checkpoint ${at.checkpointId} (version ${at.version}, offset ${at.offset}) of pipeline "orders" into ${to}: 1 snapshot (${at.bytes} bytes), 0 journal entries, 0 dead letters\nstart the pipeline with checkpoint: { dir: "${to}" } to resume from it; ${dir} is unchanged\n`,
      stderr: '',
    });
    // The original, byte for byte, and every one of its checkpoints still verifies.
    expect(await everything(dir)).toEqual(before);
    const listed = await steadfast('checkpoints', 'list', dir);
    for (const r of history) expect(listed.stdout).toMatch(new RegExp(`\\norders\\s+${r.checkpointId}\\s.*\\syes\\n`));
    // The fork holds that checkpoint as its newest, and only it.
    expect(await withStore(to, (store) => checkpointHistory(store, 'orders'))).toEqual([{ ...at }]);

    // The what-if rerun (version 2 of the stage) on the fork...
    const onFork = whatIfPipeline(to, events(COUNT), { version: 2 });
    const forkStats = await onFork.pipeline.run();
    // ...and the same rerun restoring that checkpoint in the original.
    const inPlace = whatIfPipeline(dir, events(COUNT), { version: 2 });
    await inPlace.pipeline.start({ from: at.checkpointId });
    await inPlace.pipeline.done;

    expect(forkStats.checkpoint?.restored).toEqual({ version: at.version, offset: at.offset });
    expect(onFork.sink.items).toEqual(events(COUNT).filter((e) => e.i > at.offset).map((e) => `${e.i}:${e.i * 3}`));
    expect(onFork.sink.items).toEqual(inPlace.sink.items);
    expect(onFork.pipeline.stageState<Tally>('tally')).toEqual(inPlace.pipeline.stageState<Tally>('tally'));
    expect(onFork.pipeline.stageState<Tally>('tally')).toEqual({ n: COUNT, sum: (COUNT * (COUNT - 1)) / 2, last: `e${COUNT - 1}` });
    // The final checkpoints of both hold the same state.
    const finalStates = async (store: string): Promise<Map<string, unknown>> =>
      withStore(store, async (s) => wholeStates(await readCheckpointStates(s, 'orders', ((await checkpointHistory(s, 'orders'))[0] as CheckpointRecord).checkpointId), s.location));
    expect(await finalStates(to)).toEqual(await finalStates(dir));
    // The original's newer checkpoints are still there, intact.
    const after = await withStore(dir, (store) => checkpointHistory(store, 'orders'));
    for (const r of history) expect(after).toContainEqual(r);
  });

  it('refuses an existing non-empty directory, a locked store, a corrupt checkpoint and a missing --to, with clear errors', async () => {
    const { dir, history } = await originalStore();
    const at = (history.at(-1) as CheckpointRecord).checkpointId;
    const full = fresh();
    await mkdir(full);
    await writeFile(join(full, 'keep.txt'), 'mine');
    expect(await steadfast('checkpoints', 'fork', dir, '--at', at, '--to', full)).toEqual({
      code: 1,
      stdout: '',
      stderr: `steadfast: cannot fork into ${full}: it is not empty (1 entry); give a new or empty directory\n`,
    });
    expect(await readdir(full)).toEqual(['keep.txt']);

    const empty = fresh();
    await mkdir(empty);
    const holder = createCheckpointStore({ dir });
    await holder.open();
    try {
      expect(await steadfast('checkpoints', 'fork', dir, '--at', at, '--to', empty)).toEqual({
        code: 1,
        stdout: '',
        stderr: `steadfast: checkpoint store at ${dir} is locked: another process (or store) has it open\n`,
      });
    } finally {
      await holder.close();
    }
    expect(await readdir(empty)).toEqual([]);

    const key = `ckpt!orders!tally!${String((history.at(-1) as CheckpointRecord).version).padStart(16, '0')}`;
    await withStore(dir, async (store) => {
      const [raw] = await collect(store.entries(key));
      const bytes = (raw as RawEntry).value.slice();
      bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 1;
      await store.putRaw(key, bytes);
    });
    const corrupt = await steadfast('checkpoints', 'fork', dir, '--at', at, '--to', fresh());
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(new RegExp(`^steadfast: cannot fork checkpoint "${at}" \\(version \\d+\\) of pipeline "orders": ${key}: checksum mismatch: `));
    await expect(stat(join(root, `dir-${count}`))).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await steadfast('checkpoints', 'fork', dir, '--at', at)).toEqual({ code: 2, stdout: '', stderr: 'steadfast: checkpoints fork needs --at <checkpointId> and --to <newdir>; see `steadfast checkpoints --help`\n' });
    expect((await steadfast('checkpoints', 'fork', dir, '--at', 'nope', '--to', fresh())).stderr).toMatch(/^steadfast: no completed checkpoint "nope" /);
  });
});

describe('checkpoint ids across pipelines', () => {
  it('asks for --pipeline when an id is in two pipelines, and refuses to diff checkpoints of different pipelines', async () => {
    const dir = fresh();
    await withStore(dir, async (store) => {
      for (const [pipeline, checkpointId, version] of [['p1', 'cp-a', 1], ['p2', 'cp-a', 1], ['p2', 'cp-b', 2]] as const) {
        await store.writeSnapshot({ pipeline, stage: 's', version, offset: version, checkpointId, createdAt: version, state: { pipeline, version } });
        await store.completeCheckpoint({ pipeline, checkpointId, version, offset: version, createdAt: version, stages: ['s'] });
      }
    });
    const ambiguous = await steadfast('checkpoints', 'show', dir, '--at', 'cp-a');
    expect(ambiguous).toEqual({ code: 1, stdout: '', stderr: 'steadfast: checkpoint "cp-a" is in pipelines "p1", "p2": give --pipeline\n' });
    const chosen = JSON.parse((await steadfast('checkpoints', 'show', dir, '--at', 'cp-a', '--pipeline', 'p2')).stdout) as Array<{ snapshot: { state: unknown } }>;
    expect(chosen.map((s) => s.snapshot.state)).toEqual([{ pipeline: 'p2', version: 1 }]);
    expect(JSON.parse((await steadfast('checkpoints', 'diff', dir, 'cp-a', 'cp-b', '--pipeline', 'p2', '--json')).stdout)).toMatchObject({
      pipeline: 'p2',
      stages: [{ stage: 's', status: 'changed', changes: [{ kind: 'changed', path: ['version'], from: 1, to: 2 }] }],
    });
    const crossed = await steadfast('checkpoints', 'diff', dir, 'cp-a', 'cp-b', '--pipeline', 'p1');
    expect(crossed.code).toBe(1);
    expect(crossed.stderr).toBe(`steadfast: no completed checkpoint "cp-b" of pipeline "p1" in ${dir}: it keeps cp-a (version 1)\n`);
  });
});

describe('hostile names and values', () => {
  it('prints stage names and states holding HTML and control characters as inert, escaped text', async () => {
    // defineStage allows plain names only, but a store (written by the store API, or by another tool) may hold any name.
    const dir = fresh();
    const pipeline = '<b>orders</b>';
    const stage = '<img src=x onerror=alert(1)>\u0085';
    const note = (i: number): string => `<script>alert(${i})</script>\u001b[2J\u009b31m\u2028`;
    await withStore(dir, async (store) => {
      for (const version of [1, 2]) {
        const checkpointId = `cp-${version}`;
        await store.writeSnapshot({ pipeline, stage, version, offset: version * 10, checkpointId, createdAt: 1_700_000_000_000 + version, state: { value: { last: note(version) } } });
        await store.completeCheckpoint({ pipeline, checkpointId, version, offset: version * 10, createdAt: 1_700_000_000_000 + version, stages: [stage] });
      }
    });
    const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/; // eslint-disable-line no-control-regex -- the point

    const list = await steadfast('checkpoints', 'list', dir);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(raw);
    expect(list.stdout).toMatch(/\n<b>orders<\/b>\s+<img src=x onerror=alert\(1\)>\\u0085\s+2\s/);
    expect(list.stdout).toMatch(/\n<b>orders<\/b>\s+cp-2\s+2\s.*\syes\n/);
    const listed = await steadfast('checkpoints', 'list', dir, '--json');
    expect(listed.stdout).not.toMatch(raw);
    expect((JSON.parse(listed.stdout) as { pipelines: Array<{ stages: Array<{ stage: string }> }> }).pipelines[0]?.stages[0]?.stage).toBe(stage);

    const show = await steadfast('checkpoints', 'show', dir, '--at', 'cp-2', '--stage', stage);
    expect(show.code).toBe(0);
    expect(show.stdout).not.toMatch(raw);
    const [shown] = JSON.parse(show.stdout) as Array<{ snapshot: { stage: string; state: { value: { last: string } } } }>;
    expect(shown?.snapshot.stage).toBe(stage);
    expect(shown?.snapshot.state.value.last).toBe(note(2));

    const json = await steadfast('checkpoints', 'diff', dir, 'cp-1', 'cp-2', '--json');
    expect(json.code).toBe(0);
    expect(json.stdout).not.toMatch(raw);
    expect((JSON.parse(json.stdout) as { stages: Array<{ stage: string; changes: JsonChange[] }> }).stages).toEqual([
      { stage, status: 'changed', changes: [{ kind: 'changed', path: ['value', 'last'], from: note(1), to: note(2) }] },
    ]);
    const text = await steadfast('checkpoints', 'diff', dir, 'cp-1', 'cp-2');
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(raw);
    expect(text.stdout).toBe(
      [
        'pipeline "<b>orders</b>": cp-1 (version 1, offset 10) -> cp-2 (version 2, offset 20)',
        'stage "<img src=x onerror=alert(1)>\\u0085": 1 change',
        '  ~ value.last: "<script>alert(1)</script>\\u001b[2J\\u009b31m\\u2028" -> "<script>alert(2)</script>\\u001b[2J\\u009b31m\\u2028"',
        '',
      ].join('\n'),
    );
    const missing = await steadfast('checkpoints', 'show', dir, '--at', 'cp-2', '--stage', 'x\u0085<i>');
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(raw);
  });
});
