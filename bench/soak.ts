/**
 * Soak: does a pipeline that runs for a long time stay flat?
 *
 *   npm run soak                                  30 minutes (STEADFAST_SOAK_MINUTES, or --minutes)
 *   STEADFAST_SOAK_MINUTES=2 npm run soak         the CI form (.ci/run)
 *   npm run soak -- --minutes 10 --json soak.json also writes the report as JSON
 *   npm run soak -- --minutes 2 --plant heap=2000,timer   plants a heap leak (KB/min) and a
 *                                                 forgotten unref'd timer: a check of the checks
 *
 * The soak body (bench/soak-body.ts) runs in a child process: a push source fed at full speed
 * (pushes in flight bounded by its maxPending, each awaited), a stage failing 1 % of its calls (by
 * id, the same ones every run; `onFailure: 'resume'` with the failures counted by `onError`, set
 * explicitly rather than left to the default), a stateful stage after it, checkpoints every 1,000
 * events on LevelDB in a temp directory, and `serve()` with metrics and dashboard, scraped over
 * HTTP (/metrics and /health every 2 s, / and /tree every sample, one SSE client reading /events).
 * Every sample period (10 s) it records the heap after a full GC, RSS, the active resources and the
 * live timers. After `stop()` it compares resources and timers with the baseline taken before the
 * pipeline existed, prints its result, and returns: this process then waits for the child to end
 * by itself (no `process.exit` anywhere) within EXIT_GRACE_MS.
 *
 * Fails (exit 1) when:
 * - the least-squares slope of the heap (or RSS) over the samples after the warm-up rises by more
 *   than --heap-rise-mb (2) [--rss-rise-mb (64)] across that window: the limit in MB/min is the
 *   allowance divided by the window's length, so a longer soak detects slower growth (see
 *   docs/benchmarks.md "Soak" for why these allowances);
 * - a handle type or the number of live timers differs between samples;
 * - after stop, any resource or timer is left above the baseline, or the child does not exit by
 *   itself within EXIT_GRACE_MS of reporting;
 * - the counts disagree (events read ≠ delivered + failed), a checkpoint failed, an error other
 *   than the planted failures was reported, a scrape failed or answered other than 200, or the
 *   event stream ended early.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SoakBodyResult } from './soak-body.js';
import { isTransientResource, slopePerMinute, varyingResources, type SoakSample } from './soak-stats.js';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** How long the child may take to end by itself once it has reported. */
const EXIT_GRACE_MS = 5_000;
const MB = 1_048_576;

interface Options {
  minutes: number;
  sampleSeconds: number;
  json: string | undefined;
  heapRiseMb: number;
  rssRiseMb: number;
  /** Leaks to plant on purpose, to check the checks (`heap=<KB/min>`, `timer`, comma-separated). */
  plant: string | undefined;
}

function positiveNumber(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const USAGE = 'usage: npm run soak -- [--minutes n] [--sample-seconds s] [--json file] [--heap-rise-mb m] [--rss-rise-mb m] [--plant heap=<KB/min>,timer]\n';

/** The options, or undefined for --help. */
function parseOptions(argv: readonly string[]): Options | undefined {
  const env = process.env.STEADFAST_SOAK_MINUTES;
  const options: Options = {
    minutes: env === undefined || env === '' ? 30 : positiveNumber('STEADFAST_SOAK_MINUTES', env),
    sampleSeconds: 10,
    json: undefined,
    heapRiseMb: 2,
    rssRiseMb: 64,
    plant: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--minutes') options.minutes = positiveNumber('--minutes', value());
    else if (arg === '--sample-seconds') options.sampleSeconds = positiveNumber('--sample-seconds', value());
    else if (arg === '--json') options.json = value();
    else if (arg === '--heap-rise-mb') options.heapRiseMb = positiveNumber('--heap-rise-mb', value());
    else if (arg === '--rss-rise-mb') options.rssRiseMb = positiveNumber('--rss-rise-mb', value());
    else if (arg === '--plant') options.plant = value();
    else if (arg === '-h' || arg === '--help') return undefined;
    else throw new Error(`unknown option "${arg}"\n${USAGE}`);
  }
  return options;
}

/** The samples the slopes are fitted on: after a warm-up of a quarter of the run, at least 30 s and at most 5 minutes. */
function warmUpSeconds(minutes: number): number {
  return Math.min(300, Math.max(30, minutes * 15));
}

interface ChildOutcome {
  result: SoakBodyResult | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  /** ms from the result line to the exit; null if it had to be killed or never reported. */
  exitAfterReportMs: number | null;
  killed: string | undefined;
}

function runChild(options: Options): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', path.join('bench', 'soak-body.ts'), String(options.minutes), String(options.sampleSeconds)], {
      cwd: ROOT,
      env: options.plant === undefined ? process.env : { ...process.env, STEADFAST_SOAK_PLANT: options.plant },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let result: SoakBodyResult | undefined;
    let reportedAt: number | undefined;
    let killed: string | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const watchdog = setTimeout(
      () => {
        killed = `still running ${options.minutes} min + 3 min after its start`;
        child.kill('SIGKILL');
      },
      options.minutes * 60_000 + 180_000,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      let end: number;
      while ((end = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, end);
        stdout = stdout.slice(end + 1);
        if (!line.startsWith('{"format":"steadfast-soak/1"')) {
          if (line.length > 0) process.stdout.write(`${line}\n`);
          continue;
        }
        result = JSON.parse(line) as SoakBodyResult;
        reportedAt = performance.now();
        graceTimer = setTimeout(() => {
          killed = `did not exit by itself within ${EXIT_GRACE_MS} ms of reporting: something still holds its event loop`;
          child.kill('SIGKILL');
        }, EXIT_GRACE_MS);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      clearTimeout(graceTimer);
      const exitAfterReportMs = reportedAt === undefined || killed !== undefined ? null : performance.now() - reportedAt;
      resolve({ result, exit: { code, signal }, exitAfterReportMs, killed });
    });
  });
}

interface Verdict {
  ok: boolean;
  failures: string[];
}

function commit(): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${hash} + uncommitted changes` : hash;
  } catch {
    return 'unknown';
  }
}

function fmtMb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** A slope in bytes/min, in KB/min when small. */
function fmtSlope(bytesPerMin: number): string {
  return Math.abs(bytesPerMin) < MB ? `${(bytesPerMin / 1024).toFixed(1)} KB/min` : `${(bytesPerMin / MB).toFixed(2)} MB/min`;
}

function rate(samples: readonly SoakSample[]): number {
  if (samples.length < 2) return Number.NaN;
  const first = samples[0] as SoakSample;
  const last = samples.at(-1) as SoakSample;
  return (last.events - first.events) / (last.t - first.t);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  const startedAt = new Date();
  process.stdout.write(`soak: ${options.minutes} min, samples every ${options.sampleSeconds} s (child: node --import tsx --expose-gc bench/soak-body.ts)\n`);
  const outcome = await runChild(options);
  const failures: string[] = [];
  const r = outcome.result;
  if (outcome.killed !== undefined) failures.push(`the soak process ${outcome.killed}`);
  if (r === undefined) {
    failures.push(`the soak process ended without a result (exit ${outcome.exit.code ?? outcome.exit.signal})`);
    process.stdout.write(`soak FAILED:\n- ${failures.join('\n- ')}\n`);
    process.exitCode = 1;
    return;
  }
  if (outcome.exit.code !== 0) failures.push(`the soak process exited with ${outcome.exit.code ?? outcome.exit.signal}`);

  const warmUp = warmUpSeconds(options.minutes);
  const measured = r.samples.filter((s) => s.t >= warmUp);
  const windowMin = measured.length < 2 ? 0 : ((measured.at(-1) as SoakSample).t - (measured[0] as SoakSample).t) / 60;
  const heapSlope = slopePerMinute(measured, 'heapUsed');
  const rssSlope = slopePerMinute(measured, 'rss');
  const externalSlope = slopePerMinute(measured, 'external');
  const storeSlope = slopePerMinute(measured, 'storeBytes');
  const heapLimit = windowMin > 0 ? (options.heapRiseMb * MB) / windowMin : Number.NaN;
  const rssLimit = windowMin > 0 ? (options.rssRiseMb * MB) / windowMin : Number.NaN;
  if (measured.length < 5) failures.push(`only ${measured.length} samples after the ${warmUp} s warm-up: run longer (at least ${Math.ceil((warmUp + 5 * options.sampleSeconds) / 60)} min)`);
  else {
    if (!(heapSlope <= heapLimit)) failures.push(`heap grows ${fmtSlope(heapSlope)} (limit ${fmtSlope(heapLimit)}: ${options.heapRiseMb} MB over the ${windowMin.toFixed(1)} min window)`);
    if (!(rssSlope <= rssLimit)) failures.push(`RSS grows ${fmtSlope(rssSlope)} (limit ${fmtSlope(rssLimit)}: ${options.rssRiseMb} MB over the ${windowMin.toFixed(1)} min window)`);
  }
  const varying = varyingResources(r.samples);
  if (Object.keys(varying).length > 0) failures.push(`active handles are not constant across samples: ${JSON.stringify(varying)}`);
  const timerCounts = [...new Set(r.samples.map((s) => s.timers))].sort((a, b) => a - b);
  if (timerCounts.length > 1) failures.push(`live timers are not constant across samples: ${timerCounts.join(', ')}`);
  if (Object.keys(r.leftAfterStop).length > 0) failures.push(`left after stop, above the baseline: ${JSON.stringify(r.leftAfterStop)}`);
  if (r.timersAfterStop > r.baselineTimers) failures.push(`${r.timersAfterStop - r.baselineTimers} timer(s) left after stop, made at: ${r.timerSitesAfterStop.join(' | ')}`);

  const e = r.events;
  if (e.read !== e.delivered + e.failed) failures.push(`events read ${e.read} ≠ delivered ${e.delivered} + failed ${e.failed}`);
  if (e.tallied !== e.delivered) failures.push(`the tally stage counted ${e.tallied}, the sink received ${e.delivered}`);
  if ((r.errors.STAGE_CALL_FAILED ?? 0) !== e.failed) failures.push(`onError heard ${r.errors.STAGE_CALL_FAILED ?? 0} STAGE_CALL_FAILED, the stage failed ${e.failed} events`);
  const share = e.read === 0 ? 0 : e.failed / e.read;
  if (e.read > 10_000 && Math.abs(share - 0.01) > 0.001) failures.push(`failed share ${(share * 100).toFixed(2)} %, planted 1 %`);
  if (r.unexpectedErrors.length > 0) failures.push(`unexpected errors: ${r.unexpectedErrors.join('; ')}`);
  if (r.checkpoints.completed === 0) failures.push('no checkpoint completed');
  if (r.checkpoints.failed > 0) failures.push(`${r.checkpoints.failed} checkpoint(s) failed`);
  if (r.checkpoints.last !== null && r.checkpoints.last.offset !== e.read - 1) failures.push(`the final checkpoint covers offset ${r.checkpoints.last.offset}, the last event read was ${e.read - 1}`);
  const s = r.scrapes;
  const non200 = Object.entries(s.statuses).flatMap(([p, byStatus]) => Object.entries(byStatus).filter(([status]) => status !== '200').map(([status, n]) => `${p} ${status} ×${n}`));
  if (non200.length > 0) failures.push(`scrapes answered other than 200: ${non200.join(', ')}`);
  if (s.failures.length > 0) failures.push(`scrapes failed: ${s.failures.join('; ')}`);
  if (!s.sse.connected || s.sse.endedEarly || s.sse.snapshots === 0) failures.push(`the event stream ${s.sse.connected ? (s.sse.endedEarly ? 'ended before the stop' : 'sent no snapshot') : 'never connected'}`);
  const verdict: Verdict = { ok: failures.length === 0, failures };

  const first = measured.slice(0, Math.max(2, Math.floor(measured.length / 3)));
  const last = measured.slice(-Math.max(2, Math.floor(measured.length / 3)));
  const persistent = (resources: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(resources).filter(([type]) => !isTransientResource(type)));
  const lines = [
    `soak ${verdict.ok ? 'ok' : 'FAILED'}: ${(r.runSeconds / 60).toFixed(1)} min on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}, commit ${commit()}`,
    `events: ${e.read.toLocaleString('en-US')} read (${Math.round(e.read / r.runSeconds).toLocaleString('en-US')}/s; first third of the window ${Math.round(rate(first)).toLocaleString('en-US')}/s, last third ${Math.round(rate(last)).toLocaleString('en-US')}/s), ${e.delivered.toLocaleString('en-US')} delivered, ${e.failed.toLocaleString('en-US')} failed (${(share * 100).toFixed(2)} %), ${e.refusedAtStop} pushes refused at stop`,
    `failing stage: ${JSON.stringify(r.failingStage)}; errors ${JSON.stringify(r.errors)}`,
    ...(r.planted.heapKbPerMin > 0 || r.planted.timer ? [`PLANTED LEAKS (a check of the checks): ${JSON.stringify(r.planted)}`] : []),
    `checkpoints: ${r.checkpoints.completed.toLocaleString('en-US')} completed, ${r.checkpoints.failed} failed, last v${r.checkpoints.last?.version ?? '-'} at offset ${r.checkpoints.last?.offset ?? '-'}; stop took ${Math.round(r.stopMs)} ms`,
    `heap after GC: ${fmtMb((measured[0] ?? r.samples[0])?.heapUsed ?? 0)} → ${fmtMb(r.samples.at(-1)?.heapUsed ?? 0)}, slope ${fmtSlope(heapSlope)} (limit ${fmtSlope(heapLimit)})`,
    `RSS: ${fmtMb((measured[0] ?? r.samples[0])?.rss ?? 0)} → ${fmtMb(r.samples.at(-1)?.rss ?? 0)}, slope ${fmtSlope(rssSlope)} (limit ${fmtSlope(rssLimit)}); external ${fmtSlope(externalSlope)}; store dir ${fmtMb(r.samples.at(-1)?.storeBytes ?? 0)}, ${fmtSlope(storeSlope)}`,
    `  slopes over ${measured.length} samples from ${warmUp} s (window ${windowMin.toFixed(1)} min)`,
    `handles: ${Object.keys(varying).length === 0 ? 'constant' : 'VARYING'} across ${r.samples.length} samples ${JSON.stringify(persistent(r.samples[0]?.resources ?? {}))}; live timers ${timerCounts.join('/')} (ref'd or not); after stop: ${Object.keys(r.leftAfterStop).length === 0 ? `resources back to the baseline ${JSON.stringify(r.baselineResources)}` : `resources LEFT ${JSON.stringify(r.leftAfterStop)}`}, ${r.timersAfterStop <= r.baselineTimers ? `${r.timersAfterStop} timers` : `${r.timersAfterStop - r.baselineTimers} timer(s) LEFT`}; ${outcome.exitAfterReportMs === null ? 'did NOT exit by itself' : `exited by itself ${Math.round(outcome.exitAfterReportMs)} ms after its report`}`,
    `scrapes: /metrics ${s.metrics}, /health ${s.health}, /tree ${s.tree}, / ${s.dashboard}; SSE ${s.sse.snapshots} snapshots, ${s.sse.observations} observations, ${fmtMb(s.sse.bytes)}`,
    ...failures.map((f) => `FAIL: ${f}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  if (options.json !== undefined) {
    const report = {
      format: 'steadfast-soak-report/1',
      ok: verdict.ok,
      failures,
      startedAt: startedAt.toISOString(),
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, platform: `${process.platform} ${process.arch}`, node: process.version, load: os.loadavg()[0] },
      commit: commit(),
      minutes: options.minutes,
      runSeconds: r.runSeconds,
      eventsPerSecond: e.read / r.runSeconds,
      events: e,
      errors: r.errors,
      failingStage: r.failingStage,
      planted: r.planted,
      checkpoints: r.checkpoints,
      stopMs: r.stopMs,
      slopes: {
        warmUpSeconds: warmUp,
        windowMinutes: windowMin,
        samples: measured.length,
        heapBytesPerMinute: heapSlope,
        heapLimitBytesPerMinute: heapLimit,
        rssBytesPerMinute: rssSlope,
        rssLimitBytesPerMinute: rssLimit,
        externalBytesPerMinute: externalSlope,
        storeBytesPerMinute: storeSlope,
      },
      handles: { varying, timers: timerCounts, baseline: r.baselineResources, leftAfterStop: r.leftAfterStop, timersAfterStop: r.timersAfterStop, exitAfterReportMs: outcome.exitAfterReportMs },
      scrapes: s,
      samples: r.samples,
    };
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`report written to ${options.json}\n`);
  }
  if (!verdict.ok) process.exitCode = 1;
}

await main();
