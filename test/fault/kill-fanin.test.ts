// SIGKILL a child running a checkpointed FAN-IN graph at random moments, restart it, repeat until a
// run finishes: the fan-in node's final state must count every event exactly once. The graph is
// source → evens (even ids) and odds (odd ids, slower: a 1 ms pause every 64 of its events) → tally
// (from both), so the barriers reach the tally unevenly and only alignment keeps the evens that
// overtook the odds' barrier out of the snapshot. The tally's state is order-independent, so the
// expected value is computed here directly. Episodes (each in a fresh directory) follow one another
// until enough kills have landed.
// STEADFAST_FAULT_KILLS_FANIN sets the number of kills (default 15), STEADFAST_FAULT_SEED replays a
// schedule of delays (the moments still depend on timing), STEADFAST_FAULT_VERBOSE=1 prints every run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultLab, checkSink, faultSeed, inFlightVersions, readLog, readResult, seededRandom, sleep, type WorkerRun } from './fixtures/harness.js';
import { expectedFanin, type FaninStates } from './fixtures/workload.js';

const EVENTS = 100_000;
const KILLS = Number(process.env.STEADFAST_FAULT_KILLS_FANIN ?? 15);
if (!Number.isSafeInteger(KILLS) || KILLS < 1) throw new Error(`STEADFAST_FAULT_KILLS_FANIN must be a positive integer, got "${process.env.STEADFAST_FAULT_KILLS_FANIN}"`);
/** Kill delays (from `ready`) are uniform up to the time the reference run takes for this share of the input. */
const RUN_SHARE = 0.6;

let lab: FaultLab;
beforeAll(async () => {
  lab = await FaultLab.create(EVENTS);
});
afterAll(async () => {
  await lab.cleanup();
});

const states = (path: string): FaninStates => readResult(path).states as unknown as FaninStates;

describe('SIGKILL at random moments, fan-in graph', () => {
  it(`counts every event exactly once in the fan-in node's state over ${KILLS} kills, some of them mid-checkpoint`, { timeout: 30_000 + KILLS * 4_000 }, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const expected = expectedFanin(EVENTS);

    // A run without failure: the reference, and the throughput the kill delays are scaled by.
    const reference = lab.start(lab.config('reference', { shape: 'fanin' }));
    const first = await reference.firstLine;
    expect(first?.t, reference.stderr()).toBe('ready');
    const readyAt = performance.now();
    const refExit = await reference.exited;
    expect(refExit, reference.stderr()).toEqual({ code: 0, signal: null });
    const runMs = performance.now() - readyAt;
    expect(states(reference.config.result)).toEqual(expected.states);

    const schedule: string[] = [];
    let kills = 0;
    let midCheckpoint = 0;
    let runsTotal = 0;
    let episodes = 0;
    const maxDelay = Math.max(30, RUN_SHARE * runMs);
    const started = performance.now();
    const context = () =>
      `seed ${seed} (STEADFAST_FAULT_SEED=${seed} replays the delays), ${kills} kills in ${episodes} episodes, reference run ${Math.round(runMs)} ms, kill delays up to ${Math.round(maxDelay)} ms; last runs:\n${schedule.slice(-15).join('\n')}`;

    while (kills < KILLS) {
      episodes++;
      const config = lab.config(`fanin-${episodes}`, { shape: 'fanin' });
      const runs: WorkerRun[] = [];
      const killed = new Set<number>();
      let lastCompleted: { version: number; offset: number } | null = null;
      let final: FaninStates | undefined;
      while (final === undefined) {
        if (runs.length > 400) throw new Error(`episode ${episodes}: no run finished after ${runs.length} runs; ${context()}`);
        const run = lab.start(config);
        runs.push(run);
        runsTotal++;
        let note = `episode ${episodes} run ${run.index}: committed ${lastCompleted?.offset ?? 0}`;
        let delay = Infinity;
        if (kills < KILLS) {
          const line = await run.firstLine;
          if (line?.t !== 'ready') throw new Error(`run ${run.index} did not start: ${JSON.stringify(line)}\n${run.stderr()}\n${context()}`);
          delay = random() * maxDelay;
          note += `, kill ${delay.toFixed(1)} ms after ready`;
        }
        const outcome = await Promise.race([sleep(Math.min(delay, 60_000)).then(() => 'timer' as const), run.exited.then(() => 'exited' as const)]);
        if (outcome === 'exited') {
          const exit = await run.exited;
          if (exit.code !== 0) throw new Error(`run ${run.index} ended with ${exit.signal ?? `code ${exit.code}`} before its kill:\n${run.stderr()}\n${context()}`);
          final = states(config.result);
          schedule.push(`${note}: finished first`);
          break;
        }
        if (delay === Infinity) throw new Error(`run ${run.index} did not finish within 60 s:\n${run.stderr()}\n${context()}`);
        await lab.kill(run);
        kills++;
        killed.add(run.index);
        const log = readLog(run);
        for (const line of log) {
          if (line.t === 'completed') lastCompleted = { version: line.version, offset: line.offset };
          if (line.t === 'failed' || line.t === 'error' || line.t === 'start-failed') throw new Error(`run ${run.index} logged ${JSON.stringify(line)}; ${context()}`);
        }
        const inFlight = inFlightVersions(log);
        if (inFlight.length > 0) {
          midCheckpoint++;
          note += `; killed mid-checkpoint ${inFlight.join(',')}`;
        }
        schedule.push(`${note}; completed ${JSON.stringify(lastCompleted)}`);
      }

      const why = `episode ${episodes}; ${context()}`;
      // Exactly-once state: a double-counted (or lost) event shows in n, sum, sumSq and ids.
      expect(final, why).toEqual(expected.states);
      const sink = await checkSink(runs, expected.sink, killed);
      expect({ conflicting: sink.conflicting, wrong: sink.wrong, missing: sink.missing, keys: sink.keys }, why).toEqual({ conflicting: [], wrong: [], missing: [], keys: EVENTS });
      await lab.remove(config);
    }

    if (process.env.STEADFAST_FAULT_VERBOSE === '1') console.log(schedule.join('\n'));
    const seconds = (performance.now() - started) / 1000;
    console.log(`fault fan-in: ${kills} kills (${midCheckpoint} mid-checkpoint) in ${runsTotal} runs, ${episodes} episodes, ${seconds.toFixed(1)} s, reference run ${Math.round(runMs)} ms; seed ${seed}`);
    expect(midCheckpoint, `no kill landed while a checkpoint was in flight; ${context()}`).toBeGreaterThan(0);
    expect(lab.alive()).toEqual([]);
  });
});
