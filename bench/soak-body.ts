/**
 * The soak itself, run by bench/soak.ts in a child process (`node --import tsx --expose-gc`):
 * a push source fed at full speed, a stage failing 1 % of its calls, checkpoints every 1,000
 * events on LevelDB in a temp directory, `serve()` scraped over HTTP, and memory and active
 * resources sampled every period. It prints progress on stderr and, as its LAST stdout line, one
 * JSON {@link SoakBodyResult}; then it returns, and the parent checks that the process ends by
 * itself (nothing here calls `process.exit`).
 *
 *   node --import tsx --expose-gc bench/soak-body.ts <minutes> <sampleSeconds>
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SteadfastError } from '../src/index.js';
import { dirBytes, get, openEventStream, type SseTally } from './soak-http.js';
import { activeResources, resourcesAbove, type SoakSample } from './soak-stats.js';
import { trackTimers } from './soak-timers.js';

// Before the library is loaded: its timers are made through the wrapped globals.
const timers = trackTimers();
const { createPipeline, defineStage, pushSource, serve } = await import('../src/index.js');

/** What the child reports to bench/soak.ts. */
export interface SoakBodyResult {
  format: 'steadfast-soak/1';
  minutes: number;
  sampleSeconds: number;
  /** Options that decide how the failing stage behaves, as given (not left to defaults). */
  failingStage: Record<string, unknown>;
  /** Leaks planted on purpose (none in a real soak). */
  planted: { heapKbPerMin: number; timer: boolean; heapBytes: number };
  runSeconds: number;
  events: { pushed: number; accepted: number; refusedAtStop: number; read: number; delivered: number; failed: number; tallied: number };
  errors: Record<string, number>;
  unexpectedErrors: string[];
  checkpoints: { completed: number; failed: number; failedObserved: number; last: { version: number; offset: number } | null };
  stopMs: number;
  scrapes: {
    metrics: number;
    health: number;
    tree: number;
    dashboard: number;
    /** Status codes seen, by path. */
    statuses: Record<string, Record<string, number>>;
    failures: string[];
    sse: SseTally;
  };
  baselineResources: Record<string, number>;
  /** Live timers (ref'd or not) at the baseline and once everything was stopped and closed, with where the ones left were made. */
  baselineTimers: number;
  timersAfterStop: number;
  timerSitesAfterStop: string[];
  samples: SoakSample[];
  /** Resources above the baseline once everything was stopped and closed (should be `{}`). */
  leftAfterStop: Record<string, number>;
  /** Resources right after stop, before closing the server: for the record. */
  afterStopResources: Record<string, number>;
  storeDir: string;
}

const [minutesArg, sampleArg] = process.argv.slice(2);
const minutes = Number(minutesArg);
const sampleSeconds = Number(sampleArg ?? 10);
if (!(minutes > 0) || !(sampleSeconds > 0)) throw new Error(`usage: soak-body.ts <minutes> <sampleSeconds>, got ${minutesArg} ${sampleArg}`);

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (exposedGc === undefined) throw new Error('soak-body.ts needs --expose-gc: heap samples are taken after a full GC');
const gc: () => void = exposedGc;

/** Every 100th id fails (1 % of calls, the same ids in every run). */
const FAIL_EVERY = 100;
const FAIL_AT = 42;
/** Pushes in flight at once: the push source's maxPending, so that no push is ever refused for overflow. */
const MAX_PENDING = 4_096;
const SCRAPE_MS = 2_000;

/**
 * Leaks planted on purpose (STEADFAST_SOAK_PLANT, from `npm run soak -- --plant …`), to show that
 * the checks catch them: `heap=<KB per minute>` keeps that much on the heap, `timer` leaves an
 * unref'd interval behind after the stop (the process still exits: only the timer count tells).
 */
const plant = { heapKbPerMin: 0, timer: false };
for (const part of (process.env.STEADFAST_SOAK_PLANT ?? '').split(',').filter((p) => p !== '')) {
  const heap = /^heap=(\d+(?:\.\d+)?)$/.exec(part);
  if (heap !== null) plant.heapKbPerMin = Number(heap[1]);
  else if (part === 'timer') plant.timer = true;
  else throw new Error(`STEADFAST_SOAK_PLANT: unknown part "${part}" (heap=<KB/min>, timer)`);
}
const planted: number[][] = [];
let plantedBytes = 0;

interface SoakEvent {
  id: number;
  key: number;
  value: number;
}

const log = (line: string): void => {
  process.stderr.write(`soak: ${line}\n`);
};

async function main(): Promise<void> {
  log(`starting: ${minutes} min, samples every ${sampleSeconds} s`);
  process.stdout.write(''); // make stdout's handle now, so that the baseline holds it
  const root = await mkdtemp(join(tmpdir(), 'steadfast-soak-'));
  const storeDir = join(root, 'store');
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  const baselineResources = activeResources();
  const baselineTimers = timers.live();

  const errors: Record<string, number> = {};
  const unexpectedErrors: string[] = [];
  const failingStage = { onFailure: 'resume' } as const;
  const score = defineStage({
    name: 'score',
    ...failingStage,
    process: (e: SoakEvent) => {
      if (e.id % FAIL_EVERY === FAIL_AT) throw new Error(`poison event ${e.id}`);
      return { emit: [{ id: e.id, key: e.key, score: e.value * 2 }] };
    },
  });
  const tally = defineStage({
    name: 'tally',
    initialState: () => ({ n: 0, sum: 0, byKey: new Array<number>(64).fill(0) }),
    processBatch: (events: ReadonlyArray<{ id: number; key: number; score: number }>, state) => {
      for (const e of events) {
        state.n++;
        state.sum += e.score;
        state.byKey[e.key] = (state.byKey[e.key] ?? 0) + 1;
      }
      return { state, emit: events };
    },
  });
  let delivered = 0;
  const source = pushSource<SoakEvent>({ maxPending: MAX_PENDING });
  const pipeline = createPipeline({
    name: 'soak',
    source,
    stages: [score, tally],
    sink: () => {
      delivered++;
    },
    logLevel: 'warn',
    stopTimeoutMs: 30_000,
    checkpoint: { dir: storeDir, everyEvents: 1_000, everyMs: 5_000 },
    onError: (error: SteadfastError) => {
      errors[error.code] = (errors[error.code] ?? 0) + 1;
      if (error.code !== 'STAGE_CALL_FAILED' && unexpectedErrors.length < 20) unexpectedErrors.push(`${error.code}: ${error.message}`);
    },
  });
  let checkpointsFailed = 0;
  pipeline.observe((o) => {
    if (o.type === 'steadfast.checkpoint.failed') checkpointsFailed++;
  });

  const server = await serve({ pipelines: [pipeline], port: 0 });
  if (plant.timer) setInterval(() => {}, 60_000).unref();
  await pipeline.start();
  const startedAt = performance.now();
  const elapsed = (): number => (performance.now() - startedAt) / 1000;
  const endAt = startedAt + minutes * 60_000;

  // The producer: pushes at full speed, at most MAX_PENDING unsettled, each awaited (backpressure).
  const counts = { pushed: 0, accepted: 0, refusedAtStop: 0 };
  let producing = true;
  let inFlight = 0;
  let slot: (() => void) | undefined;
  let producerError: unknown;
  const settled = (): void => {
    inFlight--;
    const wake = slot;
    slot = undefined;
    wake?.();
  };
  const producer = (async () => {
    let id = 0;
    while (producing) {
      if (inFlight >= MAX_PENDING) {
        await new Promise<void>((resolve) => (slot = resolve));
        continue;
      }
      inFlight++;
      counts.pushed++;
      const n = id++;
      source.push({ id: n, key: n % 64, value: n % 1_000 }).then(
        () => {
          counts.accepted++;
          settled();
        },
        (error: unknown) => {
          const code = (error as { code?: string }).code;
          if (!producing && (code === 'PIPELINE_STOPPED' || code === 'SOURCE_ENDED')) counts.refusedAtStop++;
          else producerError ??= error;
          settled();
        },
      );
    }
    while (inFlight > 0) await new Promise<void>((resolve) => (slot = resolve));
  })();

  // The scraper, and the sampler at the start of every sample period's scrape.
  const scrapes: SoakBodyResult['scrapes'] = {
    metrics: 0,
    health: 0,
    tree: 0,
    dashboard: 0,
    statuses: {},
    failures: [],
    sse: { snapshots: 0, observations: 0, bytes: 0, connected: false, endedEarly: false },
  };
  const closeStream = await openEventStream(server.url, scrapes.sse);
  const scrape = async (path: string, counter: 'metrics' | 'health' | 'tree' | 'dashboard'): Promise<void> => {
    try {
      const { status } = await get(server.url, path);
      scrapes[counter]++;
      const byStatus = (scrapes.statuses[path] ??= {});
      byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
    } catch (error) {
      if (scrapes.failures.length < 20) scrapes.failures.push(`${path}: ${(error as Error).message}`);
    }
  };
  const samples: SoakSample[] = [];
  const sample = async (): Promise<void> => {
    // Resources first: the previous scrape's sockets are closed by now, none of this period's is open yet.
    const resources = activeResources();
    gc();
    const memory = process.memoryUsage();
    const s: SoakSample = {
      t: elapsed(),
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      events: pipeline.stats().source.events,
      storeBytes: await dirBytes(storeDir),
      resources,
      timers: timers.live(),
    };
    samples.push(s);
    const mb = (b: number): string => (b / 1_048_576).toFixed(1);
    log(`${s.t.toFixed(0)} s: ${s.events} events, heap ${mb(s.heapUsed)} MB, rss ${mb(s.rss)} MB, store ${mb(s.storeBytes)} MB, timers ${s.timers}, resources ${JSON.stringify(resources)}`);
  };
  let nextSampleAt = startedAt;
  while (performance.now() < endAt && producerError === undefined && pipeline.status === 'running') {
    if (performance.now() >= nextSampleAt) {
      await sample();
      nextSampleAt += sampleSeconds * 1_000;
      await scrape('/', 'dashboard');
      await scrape('/tree', 'tree');
    }
    if (plant.heapKbPerMin > 0) {
      // 8 bytes per element of a packed double array
      const due = (plant.heapKbPerMin * 1024 * elapsed()) / 60 - plantedBytes;
      if (due >= 8) {
        planted.push(new Array<number>(Math.floor(due / 8)).fill(0.5));
        plantedBytes += Math.floor(due / 8) * 8;
      }
    }
    await scrape('/metrics', 'metrics');
    await scrape('/health', 'health');
    await sleep(Math.max(0, Math.min(SCRAPE_MS, endAt - performance.now(), nextSampleAt - performance.now())));
  }
  if (performance.now() >= endAt) await sample();
  const runSeconds = elapsed();

  // Stop: the producer first (its last pushes are taken or refused), then the pipeline, then the server.
  log('stopping');
  producing = false;
  const stopStarted = performance.now();
  await pipeline.stop();
  const stats = await pipeline.done;
  const stopMs = performance.now() - stopStarted;
  await producer;
  const afterStopResources = activeResources();
  closeStream();
  await server.close();
  await rm(root, { recursive: true, force: true });
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  await sleep(50);
  const leftAfterStop = resourcesAbove(baselineResources, activeResources());
  const timersAfterStop = timers.live();

  if (producerError !== undefined) unexpectedErrors.push(`producer: ${(producerError as Error).message}`);
  if (pipeline.status !== 'stopped') unexpectedErrors.push(`pipeline ended ${pipeline.status}`);
  const result: SoakBodyResult = {
    format: 'steadfast-soak/1',
    minutes,
    sampleSeconds,
    planted: { ...plant, heapBytes: plantedBytes },
    failingStage: { ...failingStage, onError: 'counted by code', fails: `id % ${FAIL_EVERY} === ${FAIL_AT}` },
    runSeconds,
    events: {
      ...counts,
      read: stats.source.events,
      delivered,
      failed: stats.stages.score?.failedEvents ?? -1,
      tallied: pipeline.stageState<{ n: number }>('tally').n,
    },
    errors,
    unexpectedErrors,
    checkpoints: {
      completed: stats.checkpoint?.completed ?? 0,
      failed: stats.checkpoint?.failed ?? 0,
      failedObserved: checkpointsFailed,
      last: stats.checkpoint?.last === null || stats.checkpoint?.last === undefined ? null : { version: stats.checkpoint.last.version, offset: stats.checkpoint.last.offset },
    },
    stopMs,
    scrapes,
    baselineResources,
    baselineTimers,
    timersAfterStop,
    timerSitesAfterStop: timers.sites(),
    samples,
    leftAfterStop,
    afterStopResources,
    storeDir,
  };
  log('done; the process should now end by itself');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
