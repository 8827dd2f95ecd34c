/**
 * Restore of one big stage state (`checkpoint-restore-1mb`, `checkpoint-restore-100mb`): open the
 * store and find the restore point (markers, snapshot read, FNV-1a-64 check, JSON decode) for one
 * stage whose state is that big, against a raw classic-level open + get + JSON.parse of the same
 * value.
 *
 *   npm run bench -- checkpoint-restore   (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/checkpoint-restore.bench.ts
 *
 * Env: BENCH_ROUNDS (default 7), BENCH_RESTORE_MB (state sizes, comma-separated, default 1,100).
 *
 * Method (bench/harness.ts): one warm-up run of each variant, then rounds running every variant
 * once in an order rotated each round, each after a full GC; medians.
 */
import { Level } from 'level';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
import { createCheckpointStore } from 'steadfast';
// Not exported from the package root: the restore search, from the sources.
import { findRestorePoint } from '../src/checkpoint/restore.js';
import { byName, finish, log, measure, noteGc, scenarioResult, variantResults, type Variant } from './harness.js';
import type { ScenarioResult } from './result.js';
import { padVersion as pad, scratchDirs } from './scratch.js';
import { keepPipelinesSilent, positiveInt, positiveInts } from './settings.js';

const ROUNDS = positiveInt('BENCH_ROUNDS', 7);
const RESTORE_MB = positiveInts('BENCH_RESTORE_MB', [1, 100]);

keepPipelinesSilent(log);
noteGc();
const freshDir = scratchDirs();

function bigState(megabytes: number): { rows: Array<{ id: number; sku: string; qty: number; price: number; tags: string[] }> } {
  const rows: Array<{ id: number; sku: string; qty: number; price: number; tags: string[] }> = [];
  const target = megabytes * 1_000_000;
  let size = 10;
  for (let i = 0; size < target; i++) {
    const row = { id: i, sku: `sku-${(i * 7_919) % 1_000_003}`, qty: i % 17, price: (i % 10_000) / 100, tags: ['a', i % 2 === 0 ? 'even' : 'odd'] };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return { rows };
}

async function restoreScenario(megabytes: number): Promise<ScenarioResult> {
  const dir = freshDir();
  const state = bigState(megabytes);
  const rows = state.rows.length;
  const writer = createCheckpointStore({ dir });
  const receipt = await writer.writeSnapshot({ pipeline: 'bench', stage: 'big', version: 1, offset: 999, checkpointId: 'cp-1', createdAt: 1_700_000_000_000, state }, { sync: true });
  await writer.completeCheckpoint({ pipeline: 'bench', checkpointId: 'cp-1', version: 1, offset: 999, createdAt: 1_700_000_000_000, stages: ['big'] }, { sync: true });
  await writer.close();
  const key = `ckpt!bench!big!${pad(1)}`;
  const decoder = new TextDecoder();
  const rawGet = async (parse: boolean) => {
    const db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view', createIfMissing: false });
    await db.open();
    const value = await db.get(key);
    await db.close();
    if (value === undefined) throw new Error(`no ${key}`);
    if (!parse) return value.length;
    // Past the header `<16 hex digits> json\n`: the snapshot record as JSON.
    const start = value.indexOf(0x0a) + 1;
    const parsed = JSON.parse(decoder.decode(value.subarray(start))) as { state: { rows: unknown[] } };
    return parsed.state.rows.length;
  };
  const raw = 'raw classic-level open + get + JSON.parse';
  const steadfast = 'steadfast: store open + findRestorePoint (checksum, decode)';
  const variants: Variant[] = [
    {
      name: raw,
      run: async () => {
        const start = performance.now();
        const n = await rawGet(true);
        const ns = (performance.now() - start) * 1e6;
        if (n !== rows) throw new Error(`raw restore read ${n} rows of ${rows}`);
        return ns;
      },
    },
    {
      name: 'raw classic-level open + get (no decode)',
      run: async () => {
        const start = performance.now();
        const n = await rawGet(false);
        const ns = (performance.now() - start) * 1e6;
        if (n !== receipt.bytes) throw new Error(`raw get read ${n} bytes of ${receipt.bytes}`);
        return ns;
      },
    },
    {
      name: steadfast,
      run: async () => {
        const start = performance.now();
        const store = createCheckpointStore({ dir });
        await store.open();
        const found = await findRestorePoint(store, 'bench', ['big']);
        await store.close();
        const ns = (performance.now() - start) * 1e6;
        const restored = found.point?.states.get('big') as { rows: unknown[] } | undefined;
        if (restored?.rows.length !== rows || found.corrupt.length > 0) throw new Error(`restore found ${JSON.stringify(found.corrupt)} / ${restored?.rows.length} rows of ${rows}`);
        return ns;
      },
    },
  ];
  const id = `checkpoint-restore-${megabytes}mb`;
  log(`${id}: ${rows.toLocaleString('en-US')} rows, ${receipt.bytes.toLocaleString('en-US')} bytes stored`);
  const samples = await measure(variants, { label: id, rounds: ROUNDS, warmup: 1, unit: 'ns/restore' });
  const results = variantResults(samples, raw);
  const mbPerSecond = (name: string) => receipt.bytes / 1e6 / (byName(results, name).nsPerEvent / 1e9);
  return scenarioResult({
    id,
    title: `Restore of a ${megabytes} MB stage state`,
    description: [
      `One stage whose state is ${megabytes} MB of JSON (${rows.toLocaleString('en-US')} rows \`{ id, sku, qty, price, tags }\`; ${receipt.bytes.toLocaleString('en-US')} bytes stored), written once with its completed-checkpoint marker (sync) and the store closed.`,
      'Timed: `createCheckpointStore({ dir })`, `open()`, `findRestorePoint(store, pipeline, [stage])` (reads the markers, then the snapshot, verifies its FNV-1a-64 checksum and decodes its JSON; the same search `pipeline.start()` makes) and `close()`;',
      'against a raw classic-level `open()`, `get()` of the same key and `close()`, with and without a `JSON.parse` of the value (no checksum, no marker read).',
      'The files are in the OS page cache (just written or read): this is the CPU cost of a restore, not a cold disk read.',
      `ns/event = ns per restore; 1 warm-up run of each variant, then ${ROUNDS} rounds in rotated order, a full GC before each run; medians; ratio = time ÷ the raw open + get + JSON.parse.`,
    ].join(' '),
    parameters: { stateMB: megabytes, storedBytes: receipt.bytes, rows, rounds: ROUNDS },
    baseline: raw,
    samples,
    comparisons: [
      { label: 'steadfast restore, ms', value: byName(results, steadfast).nsPerEvent / 1e6 },
      { label: 'steadfast restore, MB/s of stored state', value: mbPerSecond(steadfast) },
      { label: 'raw open + get + JSON.parse, MB/s', value: mbPerSecond(raw) },
    ],
  });
}

const scenarios: ScenarioResult[] = [];
for (const mb of RESTORE_MB) scenarios.push(await restoreScenario(mb));
finish('checkpoint-restore', scenarios);
