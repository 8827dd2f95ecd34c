/**
 * A stage that calls the outside world: jobs through a stage whose `process` makes one HTTP request
 * to a real server on 127.0.0.1 that answers after 15 ms, with `concurrency: 1` (the baseline) and
 * `concurrency: 16`, in one process. Target (issue 12): at least 10× the jobs per second with 16.
 *
 *   npm run bench -- concurrency  (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/concurrency.bench.ts
 *
 * Env: BENCH_JOBS (jobs per run, default 400), BENCH_LATENCY_MS (default 15), BENCH_ROUNDS
 * (default 5), BENCH_WARMUP (default 1).
 *
 * Method: the server answers each request after LATENCY_MS with the job's number doubled; a run is
 * one pipeline over `fromIterable` of JOBS numbers (standard mode, log level silent) into an array
 * sink, timed from `start()` to `done`; it checks that the outputs are every job's answer in input
 * order. Rounds alternate the two variants; figures are medians; ratio = ms per job ÷ the
 * baseline's (lower is faster).
 */
import { Agent, createServer, request } from 'node:http';
import { createPipeline, defineStage, fromIterable, toArray } from 'steadfast';
import { finish, log, measure, median, scenarioResult, type Variant } from './harness.js';
import { keepPipelinesSilent, positiveInt, warmupPasses } from './settings.js';

const JOBS = positiveInt('BENCH_JOBS', 400);
const LATENCY_MS = positiveInt('BENCH_LATENCY_MS', 15);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const WARMUP = warmupPasses(1);
const TARGET = 10;

keepPipelinesSilent(log);
const server = createServer((req, res) => {
  const n = Number(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('n'));
  setTimeout(() => res.end(String(n * 2)), LATENCY_MS);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
if (address === null || typeof address === 'string') throw new Error('no port');
const port = address.port;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function get(n: number, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/job?n=${n}`, agent, signal }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(Number(body)));
    });
    req.on('error', reject);
    req.end();
  });
}

const jobs = Array.from({ length: JOBS }, (_, i) => i);
const expected = jobs.map((n) => n * 2).join(',');

async function run(concurrency: number): Promise<number> {
  const stage = defineStage({ name: 'call', concurrency, process: async (n: number, _s, ctx) => ({ emit: [await get(n, ctx.signal)] }) });
  const sink = toArray<number>();
  const pipeline = createPipeline({ name: 'calls', source: fromIterable(jobs), stages: [stage], sink, logLevel: 'silent' });
  const started = performance.now();
  await pipeline.run();
  const ms = performance.now() - started;
  if (sink.items.join(',') !== expected) throw new Error(`concurrency ${concurrency}: wrong outputs`);
  return (ms * 1e6) / JOBS;
}

const ONE = 'concurrency: 1';
const SIXTEEN = 'concurrency: 16';
const variant = (name: string, concurrency: number): Variant => ({ name, run: () => run(concurrency) });
const samples = await measure([variant(ONE, 1), variant(SIXTEEN, 16)], { label: 'concurrency', rounds: ROUNDS, warmup: WARMUP, collect: 'none', unit: 'ns/job' });
agent.destroy();
server.close();
const speedup = median(samples.get(ONE) ?? []) / median(samples.get(SIXTEEN) ?? []);
log(`concurrency 16 does ${speedup.toFixed(1)}× the jobs per second of concurrency 1 (target ≥ ${TARGET}×)`);
finish('concurrency', [
  scenarioResult({
    id: 'concurrency',
    title: 'A stage calling a 15 ms HTTP endpoint: concurrency 16 against 1',
    description:
      `${JOBS} jobs through one stage whose \`process\` makes one HTTP request (keep-alive agent) to a server on 127.0.0.1 answering after ${LATENCY_MS} ms; standard mode, outputs checked in input order. ` +
      'A run is timed from `start()` to `done`; rounds alternate the two variants; medians. Ratio = time per job ÷ the baseline\'s.',
    parameters: { jobs: JOBS, latencyMs: LATENCY_MS, rounds: ROUNDS, warmup: WARMUP },
    baseline: ONE,
    samples,
    comparisons: [{ label: `jobs/s with concurrency 16 ÷ jobs/s with concurrency 1 (target ≥ ${TARGET})`, value: speedup, atLeast: TARGET, met: speedup >= TARGET }],
  }),
]);
