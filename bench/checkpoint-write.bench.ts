/**
 * Checkpoint write: one `store.writeSnapshot()` of a ~1 KB state against a raw classic-level batch
 * (the `level` package) putting the very same keys and bytes, with `sync: false`
 * (`checkpoint-write`) and `sync: true` (`checkpoint-write-sync`).
 *
 *   npm run bench -- checkpoint-write   (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/checkpoint-write.bench.ts
 *
 * Env: BENCH_ROUNDS (default 7), BENCH_WARMUP (warm-up runs of each variant, default 2),
 * BENCH_WRITES (writes per timed run with sync false, default 5,000), BENCH_SYNC_WRITES (with sync
 * true, default 200).
 *
 * Method (bench/harness.ts): warm-up runs, then rounds running every variant once in an order
 * rotated each round, each after a full GC; medians.
 */
import { Level } from 'level';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
import { createCheckpointStore, type CheckpointStore, type Snapshot } from 'steadfast';
// Not exported from the package root: the kernel, from the sources.
import { fnv1a64Bytes } from '../src/core/fnv1a.js';
import { byName, finish, log, measure, noteGc, scenarioResult, target, variantResults, type Variant } from './harness.js';
import type { ScenarioResult } from './result.js';
import { padVersion as pad, scratchDirs } from './scratch.js';
import { keepPipelinesSilent, positiveInt, warmupPasses } from './settings.js';

const ROUNDS = positiveInt('BENCH_ROUNDS', 7);
const WARMUP = warmupPasses(2);
const WRITES = positiveInt('BENCH_WRITES', 5_000);
const SYNC_WRITES = positiveInt('BENCH_SYNC_WRITES', 200);

keepPipelinesSilent(log);
noteGc();
const freshDir = scratchDirs();

/** A stage state of 1,000 bytes of JSON: some counters and a short list, like a small aggregate. */
const STATE_1K = (() => {
  const state = {
    counts: Array.from({ length: 64 }, (_, i) => i * 37),
    sums: Array.from({ length: 32 }, (_, i) => i * 1_234.5),
    lastKey: 'order-000123',
    window: Array.from({ length: 8 }, (_, i) => ({ at: 1_700_000_000_000 + i, n: i })),
    note: '',
  };
  state.note = 'x'.repeat(Math.max(0, 1_000 - JSON.stringify(state).length));
  return state;
})();

const snapshotOf = (version: number): Snapshot => ({ pipeline: 'bench', stage: 'agg', version, offset: version * 1_000, checkpointId: `cp-${version}`, createdAt: 1_700_000_000_000, state: STATE_1K });

/** The exact keys and bytes one steadfast write stores: the snapshot and its meta record. */
async function storedBytes(): Promise<{ snapshot: Uint8Array; metaKey: string; meta: Uint8Array }> {
  const store = createCheckpointStore({ dir: freshDir() });
  await store.writeSnapshot(snapshotOf(1));
  const entries = new Map<string, Uint8Array>();
  for await (const e of store.entries()) entries.set(e.key, Uint8Array.from(e.value));
  await store.close();
  const snapshot = entries.get(`ckpt!bench!agg!${pad(1)}`);
  const metaKey = [...entries.keys()].find((k) => k.startsWith('meta!'));
  if (snapshot === undefined || metaKey === undefined) throw new Error(`unexpected stored keys: ${[...entries.keys()].join(', ')}`);
  return { snapshot, metaKey, meta: entries.get(metaKey) as Uint8Array };
}

async function writeScenario(sync: boolean, bytes: Awaited<ReturnType<typeof storedBytes>>): Promise<ScenarioResult> {
  const count = sync ? SYNC_WRITES : WRITES;
  const store: CheckpointStore = createCheckpointStore({ dir: freshDir() });
  await store.open();
  const db = new Level<string, Uint8Array>(freshDir(), { valueEncoding: 'view' });
  await db.open();
  let version = 0;
  let rawVersion = 0;
  let pruneVersion = 0;
  const pruneStore: CheckpointStore = createCheckpointStore({ dir: freshDir() });
  await pruneStore.open();
  const raw = 'raw classic-level batch (same keys and bytes)';
  const steadfast = `steadfast writeSnapshot`;
  const variants: Variant[] = [
    {
      name: raw,
      run: async () => {
        const start = performance.now();
        for (let i = 0; i < count; i++) {
          const v = ++rawVersion;
          await db.batch(
            [
              { type: 'put', key: `ckpt!bench!agg!${pad(v)}`, value: bytes.snapshot },
              { type: 'put', key: bytes.metaKey, value: bytes.meta },
            ],
            { sync },
          );
        }
        return ((performance.now() - start) * 1e6) / count;
      },
    },
    {
      name: 'raw classic-level get (meta) + batch: the I/O writeSnapshot does',
      run: async () => {
        const start = performance.now();
        for (let i = 0; i < count; i++) {
          const v = ++rawVersion;
          if ((await db.get(bytes.metaKey)) === undefined && v > 1) throw new Error('meta missing');
          await db.batch(
            [
              { type: 'put', key: `ckpt!bench!agg!${pad(v)}`, value: bytes.snapshot },
              { type: 'put', key: bytes.metaKey, value: bytes.meta },
            ],
            { sync },
          );
        }
        return ((performance.now() - start) * 1e6) / count;
      },
    },
    {
      name: steadfast,
      run: async () => {
        const start = performance.now();
        for (let i = 0; i < count; i++) await store.writeSnapshot(snapshotOf(++version), { sync });
        return ((performance.now() - start) * 1e6) / count;
      },
    },
  ];
  if (!sync) {
    variants.push({
      name: 'steadfast writeSnapshot, pruning below version − 2 (as a pipeline with keep 3)',
      run: async () => {
        const start = performance.now();
        for (let i = 0; i < count; i++) {
          const v = ++pruneVersion;
          await pruneStore.writeSnapshot(snapshotOf(v), v > 2 ? { sync, pruneBelow: v - 2 } : { sync });
        }
        return ((performance.now() - start) * 1e6) / count;
      },
    });
    variants.push({
      name: 'encode only: JSON + FNV-1a-64 of the snapshot (no I/O)',
      run: async () => {
        const encoder = new TextEncoder();
        let sink = 0;
        const start = performance.now();
        for (let i = 0; i < count; i++) sink += fnv1a64Bytes(encoder.encode(JSON.stringify(snapshotOf(i)))).length;
        const ns = ((performance.now() - start) * 1e6) / count;
        if (sink !== count * 16) throw new Error('checksum lengths');
        return ns;
      },
    });
  }
  const id = sync ? 'checkpoint-write-sync' : 'checkpoint-write';
  log(`${id}: ${count} writes per run, ${bytes.snapshot.length} + ${bytes.meta.length} bytes`);
  const samples = await measure(variants, { label: id, rounds: ROUNDS, warmup: WARMUP, unit: 'ns/write' });
  const results = variantResults(samples, raw);
  await store.close();
  await pruneStore.close();
  await db.close();
  const ratio = byName(results, raw).nsPerEvent / byName(results, steadfast).nsPerEvent;
  return scenarioResult({
    id,
    title: `Checkpoint write vs a raw LevelDB batch, sync: ${sync}`,
    description: [
      `\`store.writeSnapshot(snapshot, { sync: ${sync} })\` of a stage state of ${JSON.stringify(STATE_1K).length} bytes as JSON (${bytes.snapshot.length} bytes stored with the snapshot's fields and the checksum header), one write awaited after the other,`,
      `against \`db.batch([put snapshot, put meta], { sync: ${sync} })\` on a classic-level database (the \`level\` package) with the very keys and bytes steadfast stored for one such write (captured from the store beforehand; ${bytes.meta.length} bytes of meta).`,
      'steadfast\'s write does more than the batch: it JSON-encodes and checksums (FNV-1a-64) the snapshot, reads the stage\'s meta record (one `get`) to keep it monotonic, then writes the same two puts in one batch;',
      'the row "raw classic-level get (meta) + batch" does that I/O alone (the same `get`, then the same batch), without encoding.',
      sync ? '' : 'Two more rows break this down: the same write with `pruneBelow` (a key-range scan and a delete per write, as the pipeline\'s writers do once `keep` checkpoints exist), and the encode + checksum alone, without I/O.',
      `ns/event = ns per write; ${count.toLocaleString('en-US')} writes per timed run; ${WARMUP} warm-up runs of each variant, then ${ROUNDS} rounds in rotated order, a full GC before each run; medians; ratio = ns per write ÷ the raw batch's.`,
    ]
      .filter((part) => part !== '')
      .join(' '),
    parameters: { writes: count, sync, stateJsonBytes: JSON.stringify(STATE_1K).length, storedBytes: bytes.snapshot.length + bytes.meta.length, rounds: ROUNDS },
    baseline: raw,
    samples,
    comparisons: [target('raw batch time ÷ steadfast write time (≥ 0.83 ⇔ steadfast ≤ 1.2× the raw batch)', ratio, 1 / 1.2)],
  });
}

const bytes = await storedBytes();
finish('checkpoint-write', [await writeScenario(false, bytes), await writeScenario(true, bytes)]);
