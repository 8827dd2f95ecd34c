// SIGKILL a child running a 3-stage checkpointed pipeline at random moments, restart it, repeat until
// a run finishes: the final stage states and the deduplicated sink must equal a run without failure.
// Episodes of that (each in a fresh directory) follow one another until enough kills have landed.
// STEADFAST_FAULT_KILLS sets the number of kills (default 50; `npm run test:fault` runs 300),
// STEADFAST_FAULT_SEED replays a schedule of delays (the moments still depend on timing),
// STEADFAST_FAULT_VERBOSE=1 prints every run's kill and what it had committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { FaultLab, checkSink, faultSeed, inFlightVersions, readLog, readResult, seededRandom, sleep, type WorkerResult, type WorkerRun } from './fixtures/harness.js';
import { expectedRun } from './fixtures/workload.js';

const EVENTS = 200_000;
const KILLS = Number(process.env.STEADFAST_FAULT_KILLS ?? 50);
if (!Number.isSafeInteger(KILLS) || KILLS < 1) throw new Error(`STEADFAST_FAULT_KILLS must be a positive integer, got "${process.env.STEADFAST_FAULT_KILLS}"`);
/** Share of kills timed from the spawn instead of from `ready`: they land in start-up, store open or restore. */
const EARLY_SHARE = 0.1;
/** Kill delays are uniform up to the time the reference run takes for this share of the input. */
const RUN_SHARE = 0.6;

let lab: FaultLab;
beforeAll(async () => {
  lab = await FaultLab.create(EVENTS);
});
afterAll(async () => {
  await lab.cleanup();
});

/** The newest snapshot version of any stage, and the newest completed marker, as stored now. */
async function storedVersions(dir: string): Promise<{ snapshot: number; completed: number }> {
  const store = createCheckpointStore({ dir, readOnly: true });
  try {
    let completed = 0;
    for await (const read of store.completed('fault')) if (read.ok) completed = Math.max(completed, read.value.version);
    let snapshot = 0;
    for (const stage of ['parse', 'enrich', 'aggregate']) {
      for await (const read of store.snapshots('fault', stage)) {
        if (read.ok) snapshot = Math.max(snapshot, read.value.version);
        break;
      }
    }
    return { snapshot, completed };
  } finally {
    await store.close();
  }
}

describe('SIGKILL at random moments', () => {
  it(`loses no event and counts none twice over ${KILLS} kills at random moments, many of them mid-checkpoint`, { timeout: 90_000 + KILLS * 4_000 }, async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const expected = expectedRun(EVENTS);

    // A run without failure: the reference, and the throughput the kill delays are scaled by.
    const reference = lab.start(lab.config('reference'));
    const first = await reference.firstLine;
    expect(first?.t).toBe('ready');
    const readyAt = performance.now();
    const startupMs = readyAt - reference.spawnedAt;
    const refExit = await reference.exited;
    expect(refExit, reference.stderr()).toEqual({ code: 0, signal: null });
    const eventsPerMs = EVENTS / (performance.now() - readyAt);
    const refResult = readResult(reference.config.result);
    expect(refResult.states).toEqual(expected.states);
    const refSink = await checkSink([reference], expected.sink, new Set());
    expect({ duplicates: refSink.duplicates, keys: refSink.keys, wrong: refSink.wrong }).toEqual({ duplicates: 0, keys: EVENTS, wrong: [] });

    const schedule: string[] = [];
    let kills = 0;
    let early = 0;
    let midCheckpoint = 0;
    let orphaned = 0;
    let runsTotal = 0;
    let episodes = 0;
    const maxDelay = Math.max(30, (RUN_SHARE * EVENTS) / eventsPerMs);
    const started = performance.now();
    const context = () =>
      `seed ${seed} (STEADFAST_FAULT_SEED=${seed} replays the delays), ${kills} kills in ${episodes} episodes, reference ${Math.round(eventsPerMs)} events/ms, start-up ${Math.round(startupMs)} ms, kill delays up to ${Math.round(maxDelay)} ms; last runs:\n${schedule.slice(-15).join('\n')}`;

    // Episodes: a fresh directory, runs killed at random until one finishes first; then its result
    // and sink are checked, and the next episode starts until enough kills have landed.
    while (kills < KILLS) {
      episodes++;
      const config = lab.config(`chaos-${episodes}`);
      const runs: WorkerRun[] = [];
      const killed = new Set<number>();
      let lastCompleted: { version: number; offset: number } | null = null;
      /** The newest version some run began (a snapshot written): it may have completed unseen just before a kill. */
      let begun = 0;
      let final: WorkerResult | undefined;
      while (final === undefined) {
        if (runs.length > 400) throw new Error(`episode ${episodes}: no run finished after ${runs.length} runs; ${context()}`);
        const run = lab.start(config);
        runs.push(run);
        runsTotal++;
        let note = `episode ${episodes} run ${run.index}: committed ${lastCompleted?.offset ?? 0}`;
        let delay = Infinity;
        if (kills < KILLS && random() < EARLY_SHARE) {
          delay = random() * startupMs;
          note += `, early kill ${delay.toFixed(1)} ms after spawn`;
        } else if (kills < KILLS) {
          const line = await run.firstLine;
          if (line?.t !== 'ready') throw new Error(`run ${run.index} did not start: ${JSON.stringify(line)}\n${run.stderr()}\n${context()}`);
          delay = random() * maxDelay;
          note += `, kill ${delay.toFixed(1)} ms after ready`;
        }
        const outcome = await Promise.race([sleep(Math.min(delay, 60_000)).then(() => 'timer' as const), run.exited.then(() => 'exited' as const)]);
        if (outcome === 'exited') {
          const exit = await run.exited;
          if (exit.code !== 0) throw new Error(`run ${run.index} ended with ${exit.signal ?? `code ${exit.code}`} before its kill:\n${run.stderr()}\n${context()}`);
          final = readResult(config.result);
          schedule.push(`${note}: finished first`);
          break;
        }
        if (delay === Infinity) throw new Error(`run ${run.index} did not finish within 60 s:\n${run.stderr()}\n${context()}`);
        await lab.kill(run);
        kills++;
        killed.add(run.index);
        const log = readLog(run);
        const ready = log.find((l) => l.t === 'ready');
        if (ready === undefined) early++;
        else {
          // What the run restored is the newest checkpoint that completed before (or the one in flight, if its marker landed).
          const restored = ready.restored;
          const low = lastCompleted?.version ?? 0;
          expect(restored?.version ?? 0, `run ${run.index} restored ${JSON.stringify(restored)}, last completed ${JSON.stringify(lastCompleted)}; ${context()}`).toBeGreaterThanOrEqual(low);
          expect(restored?.version ?? 0, `run ${run.index} restored ${JSON.stringify(restored)}, newest begun ${begun}; ${context()}`).toBeLessThanOrEqual(Math.max(low, begun));
          if (restored !== null && restored.version > low) lastCompleted = restored;
        }
        for (const line of log) {
          if (line.t === 'completed') lastCompleted = { version: line.version, offset: line.offset };
          if (line.t === 'written') begun = Math.max(begun, line.version);
          if (line.t === 'failed' || line.t === 'error') throw new Error(`run ${run.index} logged ${JSON.stringify(line)}; ${context()}`);
        }
        const inFlight = inFlightVersions(log);
        if (inFlight.length > 0) {
          midCheckpoint++;
          // On disk: snapshots of the unfinished checkpoint, newer than any completed marker (unless its marker landed).
          const stored = await storedVersions(config.dir);
          if (stored.snapshot > stored.completed) orphaned++;
          note += `; killed mid-checkpoint ${inFlight.join(',')} (stored: snapshot ${stored.snapshot}, marker ${stored.completed})`;
        }
        schedule.push(`${note}; completed ${JSON.stringify(lastCompleted)}`);
      }

      const why = `episode ${episodes}; ${context()}`;
      expect(final.states, why).toEqual(expected.states);
      const sink = await checkSink(runs, expected.sink, killed);
      expect({ conflicting: sink.conflicting, wrong: sink.wrong, missing: sink.missing, keys: sink.keys, offsetMismatch: sink.offsetMismatch }, why).toEqual({
        conflicting: [],
        wrong: [],
        missing: [],
        keys: EVENTS,
        offsetMismatch: 0,
      });
      // Replays after kills deliver some outputs again: that is what the keyed sink deduplicates.
      expect(sink.lines, why).toBe(EVENTS + sink.duplicates);
      await lab.remove(config);
    }

    if (process.env.STEADFAST_FAULT_VERBOSE === '1') console.log(schedule.join('\n'));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fault: ${kills} kills (${early} before ready, ${midCheckpoint} mid-checkpoint, ${orphaned} left an unfinished checkpoint on disk) in ${runsTotal} runs, ${episodes} episodes, ${seconds.toFixed(1)} s; seed ${seed}`,
    );
    expect(midCheckpoint, `no kill landed while a checkpoint was in flight; ${context()}`).toBeGreaterThan(0);
    expect(orphaned, `no kill left an unfinished checkpoint on disk; ${context()}`).toBeGreaterThan(0);
    expect(lab.alive()).toEqual([]);
  });
});
