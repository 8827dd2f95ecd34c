// Damage below the checksum layer: bit flips in LevelDB's own files (its .log and .ldb tables),
// which LevelDB either drops in silence (a log record that fails its CRC) or reports as
// "Corruption: …" on every read. A store that had checkpoints must never read as a new one: the
// damage is counted, observed and logged, and LevelDB's repair is offered and can be asked for.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { WITNESS_FILE } from '../../src/checkpoint/level-integrity.js';
import { createMetrics, createPipeline, defineStage, fromIterable, type PipelineObservation, type PipelineStats } from '../../src/index.js';
import { cli } from '../cli/capture-io.js';

const EVENTS = 2_000;
const events = Array.from({ length: EVENTS }, (_, i) => i);
const SUM = (EVENTS * (EVENTS - 1)) / 2;

interface Tally {
  n: number;
  sum: number;
}

const tally = defineStage({
  name: 'tally',
  initialState: (): Tally => ({ n: 0, sum: 0 }),
  process: (e: number, s: Tally) => ({ state: { n: s.n + 1, sum: s.sum + e }, emit: [] }),
});

/** mulberry32: the same flips on every run (the seed is in each assertion's message). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outcome {
  stats?: PipelineStats;
  error?: { code?: string; message: string };
  seen: PipelineObservation[];
  logged: Array<{ level: number; msg: string }>;
  state?: Tally;
  metrics: string;
}

/** One run of the pipeline over the store at `dir`, with what it observed, logged and exported. */
async function runOn(dir: string, checkpoint: { repairOnCorruption?: boolean } = {}): Promise<Outcome> {
  const logged: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logged.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  const pipeline = createPipeline({ name: 'flip', source: fromIterable(events), stages: [tally], logger: pino({ level: 'warn' }, stream), checkpoint: { dir, everyEvents: 100, keep: 3, ...checkpoint } });
  const seen: PipelineObservation[] = [];
  pipeline.observe((event) => seen.push(event));
  const metrics = createMetrics();
  metrics.track(pipeline);
  try {
    const stats = await pipeline.run();
    return { stats, seen, logged, state: pipeline.stageState<Tally>('tally'), metrics: await metrics.expose() };
  } catch (error) {
    return { error: error as { code?: string; message: string }, seen, logged, metrics: await metrics.expose() };
  } finally {
    metrics.untrack(pipeline);
  }
}

const corruptKeys = (outcome: Outcome): string[] => outcome.seen.flatMap((e) => (e.type === 'steadfast.checkpoint.corrupt' ? [e.key] : []));
const noneValid = (outcome: Outcome): boolean => outcome.seen.some((e) => e.type === 'steadfast.checkpoint.none_valid');

let root: string;
let base: string;
let lastVersion: number;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'steadfast-below-'));
  base = join(root, 'base');
  const first = await runOn(base);
  expect(first.state).toEqual({ n: EVENTS, sum: SUM });
  lastVersion = first.stats?.checkpoint?.last?.version ?? 0;
  expect(lastVersion).toBeGreaterThanOrEqual(3);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let copies = 0;
/** A copy of the base store; with `tables`, opened and closed once first, so that LevelDB moved its log into an .ldb table. */
async function copyOfBase(tables = false): Promise<string> {
  const dir = join(root, `copy-${++copies}`);
  await cp(base, dir, { recursive: true });
  if (tables) {
    const store = createCheckpointStore({ dir });
    await store.open();
    await store.close();
  }
  return dir;
}

async function flipBit(dir: string, suffix: '.log' | '.ldb', random: () => number): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(suffix));
  let biggest = '';
  let bytes = Buffer.alloc(0);
  for (const name of names) {
    const content = await readFile(join(dir, name));
    if (content.length > bytes.length) [biggest, bytes] = [name, content];
  }
  expect(bytes.length, `no ${suffix} file with data in ${dir}: ${names.join(', ')}`).toBeGreaterThan(0);
  const bit = Math.floor(random() * bytes.length * 8);
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  await writeFile(join(dir, biggest), bytes);
  return `${biggest} bit ${bit} of ${bytes.length * 8}`;
}

const FLIP_RUN = fileURLToPath(new URL('./fixtures/flip-run.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/steadfast.js', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface ChildRun {
  aborted: boolean;
  stderr: string;
  result?: { ok: boolean; code?: string; message?: string; state?: Tally; restored?: { version: number } | null; corrupt?: number; corruptKeys?: string[] };
}

/** Runs the pipeline over `dir` in a child process (fixtures/flip-run.ts). */
async function runInChild(dir: string, repair = false): Promise<ChildRun> {
  const run = await spawned(process.execPath, ['--import', 'tsx', FLIP_RUN, dir, String(EVENTS), ...(repair ? ['repair'] : [])]);
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  const outcome: ChildRun = { aborted: run.signal === 'SIGABRT', stderr: run.stderr };
  if (line.startsWith('{')) outcome.result = JSON.parse(line) as NonNullable<ChildRun['result']>;
  return outcome;
}

/** The built CLI (dist/) in a child process. */
function binary(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return spawned(process.execPath, [BIN, ...args]);
}

function spawned(command: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: REPO, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Damages the (only) table of `dir` deterministically: cut in half, or its footer's magic number flipped. */
async function damageTable(dir: string, how: 'truncated' | 'bad magic'): Promise<string> {
  const name = (await readdir(dir)).find((file) => file.endsWith('.ldb'));
  expect(name, `no .ldb table in ${dir}`).toBeDefined();
  const path = join(dir, name as string);
  const bytes = await readFile(path);
  if (how === 'truncated') await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  else {
    bytes[bytes.length - 1]! ^= 0x10;
    await writeFile(path, bytes);
  }
  return name as string;
}

describe('bit flips below the checksums (real LevelDB files)', () => {
  it('never lets a flipped bit in the LevelDB log pass for an empty store: counted, observed, logged, exported', { timeout: 60_000 }, async () => {
    const random = seeded(14);
    for (let trial = 0; trial < 8; trial++) {
      const dir = await copyOfBase();
      const where = await flipBit(dir, '.log', random);
      const outcome = await runOn(dir);
      const why = `seed 14, trial ${trial}: ${where}; corrupt keys ${corruptKeys(outcome).join(', ')}`;
      expect(outcome.error, why).toBeUndefined();
      expect(outcome.state, why).toEqual({ n: EVENTS, sum: SUM });
      const restored = outcome.stats?.checkpoint?.restored;
      if (restored?.version !== lastVersion) {
        // Anything short of the newest checkpoint is a loss, and says so.
        expect(outcome.stats?.checkpoint?.corrupt, why).toBeGreaterThanOrEqual(1);
        expect(corruptKeys(outcome).some((key) => key === 'LevelDB log' || key === WITNESS_FILE), why).toBe(true);
        expect(outcome.logged.some((line) => line.level >= 40 && /LevelDB (dropped|lost)/.test(line.msg)), why).toBe(true);
        expect(outcome.metrics, why).toMatch(/steadfast_checkpoint_corrupt_total\{pipeline="flip",stage=""\} [1-9]/);
      }
      if (restored === null) expect(noneValid(outcome), why).toBe(true);
    }
  });

  it('reports a store whose LevelDB files are gone but whose witness remains as having lost its checkpoints', async () => {
    const dir = await copyOfBase();
    for (const name of await readdir(dir)) if (name !== WITNESS_FILE) await rm(join(dir, name));
    const outcome = await runOn(dir);
    expect(outcome.state).toEqual({ n: EVENTS, sum: SUM });
    expect(outcome.stats?.checkpoint?.restored).toBeNull();
    expect(corruptKeys(outcome)).toEqual([WITNESS_FILE]);
    const reason = outcome.seen.find((e) => e.type === 'steadfast.checkpoint.corrupt' && e.key === WITNESS_FILE);
    expect(reason).toMatchObject({ reason: expect.stringMatching(new RegExp(`held completed checkpoint ${lastVersion} of "flip" .*it holds none now`)) });
    expect(noneValid(outcome)).toBe(true);
    // The next run's checkpoints are the witness now: no alarm after that.
    const again = await runOn(dir);
    expect(again.stats?.checkpoint?.corrupt).toBe(0);
  });

  it('fails start() with CHECKPOINT_CORRUPT naming the repair for a table LevelDB cannot read, and starts after a repair with repairOnCorruption', async () => {
    for (const damage of ['truncated', 'bad magic'] as const) {
      const dir = await copyOfBase(true);
      const table = await damageTable(dir, damage);
      const spare = join(root, `spare-${copies}`);
      await cp(dir, spare, { recursive: true });
      const outcome = await runOn(dir);
      expect(outcome.error, `${damage} ${table}`).toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining(`repair it with \`steadfast checkpoints repair ${dir}\``) });
      expect(outcome.error?.message).toMatch(/is damaged: LevelDB reports "(Corruption: |IO error: ).*"; .*or start the pipeline with checkpoint: \{ repairOnCorruption: true \}$/);

      const repaired = await runOn(spare, { repairOnCorruption: true });
      expect(repaired.error?.message, damage).toBeUndefined();
      expect(repaired.state).toEqual({ n: EVENTS, sum: SUM });
      // The one table held everything: the repair saves nothing of it, and the loss is reported.
      expect(repaired.stats?.checkpoint?.restored).toBeNull();
      expect(corruptKeys(repaired)).toEqual(['LevelDB', WITNESS_FILE]);
      expect(repaired.seen.find((e) => e.type === 'steadfast.checkpoint.corrupt')).toMatchObject({ reason: expect.stringMatching(/^LevelDB reported the store corrupt \(".+"\); repaired with LevelDB's repair \(repairOnCorruption\)/) });
      expect(noneValid(repaired)).toBe(true);
    }
  });

  it('restores exactly, or says what it lost, or fails with CHECKPOINT_CORRUPT, for random bit flips in a table; a repair then always starts', { timeout: 180_000 }, async () => {
    // Each run in a child process: LevelDB (as classic-level builds it) asserts on some damaged
    // keys and aborts the process that reads them. The repair, in a child of its own, must then
    // still bring the store back.
    const random = seeded(1414);
    const outcomes = new Map<string, number>();
    for (let trial = 0; trial < 8; trial++) {
      const dir = await copyOfBase(true);
      const where = await flipBit(dir, '.ldb', random);
      const spare = join(root, `spare-${copies}`);
      await cp(dir, spare, { recursive: true });
      const why = `seed 1414, trial ${trial}: ${where}`;
      const first = await runInChild(dir);
      const kind = first.aborted ? 'aborted' : first.result?.ok === true ? 'ran' : (first.result?.code ?? 'failed');
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      if (first.result?.ok === true) {
        expect(first.result.state, why).toEqual({ n: EVENTS, sum: SUM });
        if (first.result.restored?.version !== lastVersion) expect(first.result.corrupt, why).toBeGreaterThanOrEqual(1);
        continue;
      }
      if (!first.aborted) expect(first.result, why).toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining(`steadfast checkpoints repair ${dir}`) });
      let repaired = await runInChild(spare, true);
      if (repaired.aborted) {
        // Aborted before the restore could ask for the repair: the command line's repair is the way.
        const cliRepair = await binary(['checkpoints', 'repair', spare]);
        expect(cliRepair.code, `${why}: ${cliRepair.stderr}`).toBe(0);
        repaired = await runInChild(spare);
      }
      expect(repaired.aborted, `${why}: ${repaired.stderr}`).toBe(false);
      expect(repaired.result, why).toMatchObject({ ok: true, state: { n: EVENTS, sum: SUM } });
      if (repaired.result?.restored?.version !== lastVersion) expect(repaired.result?.corrupt, why).toBeGreaterThanOrEqual(1);
    }
    console.log(`below-checksums: table flips (seed 1414): ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });

  it('brings back, with the command line repair, a store whose damaged table makes LevelDB abort the process reading it', { timeout: 60_000 }, async () => {
    // fixtures/aborting-store: a table with one flipped bit (found by the random probe above) on
    // which LevelDB's key comparator asserts (dbformat.h ExtractUserKey) and aborts the process.
    const dir = join(root, 'aborting');
    await cp(fileURLToPath(new URL('./fixtures/aborting-store/', import.meta.url)), dir, { recursive: true });
    const first = await runInChild(dir);
    expect(first.aborted, first.stderr).toBe(true);
    expect(first.stderr).toContain('Assertion');
    const repaired = await binary(['checkpoints', 'repair', dir]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toMatch(/^repaired .* with LevelDB's repair/);
    expect(repaired.stdout).toContain('pipeline "flip": the store held completed checkpoint 3');
    const after = await runInChild(dir);
    expect(after.aborted, after.stderr).toBe(false);
    expect(after.result).toMatchObject({ ok: true, state: { n: EVENTS, sum: SUM }, restored: null, corruptKeys: [WITNESS_FILE] });
  });

  it('has the CLI name the repair for such a store, repair it, and say what is left', async () => {
    const dir = await copyOfBase(true);
    await damageTable(dir, 'bad magic');
    const listed = await cli('checkpoints', 'list', dir);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(new RegExp(`^steadfast: checkpoint store at ${dir} is damaged: LevelDB reports "Corruption: [^"]+"; repair it with \`steadfast checkpoints repair ${dir}\`[^\\n]*\\n$`));

    const repaired = await cli('checkpoints', 'repair', dir);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toMatch(new RegExp(`^repaired ${dir} with LevelDB's repair`));
    expect(repaired.stdout).toMatch(/\nafter the repair: \d+ entr(y|ies), 0 corrupt\n/);
    expect(repaired.stdout).toMatch(new RegExp(`pipeline "flip": the store held completed checkpoint ${lastVersion} \\(.*\\), none is left: LevelDB lost data below the checksums\\n$`));
    expect((await cli('checkpoints', 'list', dir)).code).toBe(0);
  });

  it('has verify report records LevelDB dropped from its log, and exit 1', async () => {
    const dir = await copyOfBase();
    await flipBit(dir, '.log', seeded(99));
    const verified = await cli('checkpoints', 'verify', dir);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^damaged: LevelDB dropped \d+ bytes of \d+\.log while opening the store \(Corruption: [^)]+\)\n/m);
    expect(verified.stdout).toMatch(/the store lost data below the checksums\n$/);
  });

  it('refuses to repair a store another store holds open, and a directory with no store', async () => {
    const dir = await copyOfBase();
    const holder = createCheckpointStore({ dir });
    await holder.open();
    try {
      expect(await cli('checkpoints', 'repair', dir)).toMatchObject({ code: 1, stderr: expect.stringContaining('is locked') });
    } finally {
      await holder.close();
    }
    const empty = join(root, 'empty');
    expect(await cli('checkpoints', 'repair', empty)).toEqual({ code: 1, stdout: '', stderr: `steadfast: no checkpoint store at ${empty}\n` });
  });
});
