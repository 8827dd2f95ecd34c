import { describe, expect, it } from 'vitest';
import { createActor, createMachine, fromPromise, type InspectionEvent } from 'xstate';
import { InspectionLog } from '../../src/observability/inspection-log.js';

const machine = createMachine({
  id: 'job',
  initial: 'idle',
  states: {
    idle: { on: { GO: 'working' } },
    working: { invoke: { src: fromPromise(async () => 42), onDone: 'idle' } },
  },
});

/** Runs the machine through GO → working → done → idle, feeding every inspection event to `log`. */
async function runJob(log: InspectionLog, pipeline = 'p', id = 'job'): Promise<void> {
  const actor = createActor(machine, { id, inspect: (e: InspectionEvent) => log.record(pipeline, e) });
  actor.start();
  actor.send({ type: 'GO' });
  await new Promise((resolve) => setTimeout(resolve, 5));
  actor.stop();
}

describe('InspectionLog', () => {
  it('keeps the received events and snapshots of root actors, not of the actors they invoke', async () => {
    let now = 1_000;
    const log = new InspectionLog({ now: () => now++ });
    await runJob(log);
    expect(log.actors('p')).toEqual(['job']);
    const entries = log.events('p', 'job');
    expect(entries[0]).toMatchObject({ kind: 'actor', at: 1_000 });
    expect(entries.filter((e) => e.kind === 'event').map((e) => e.type)).toEqual(['xstate.init', 'GO', expect.stringMatching(/^xstate\.done\.actor\./)]);
    expect(entries.filter((e) => e.kind === 'snapshot').map((e) => e.state)).toEqual(['idle', 'working', 'idle', 'idle']);
    expect(entries.at(-1)).toMatchObject({ kind: 'snapshot', status: 'stopped' });
    // Sequence numbers increase, payloads are not kept.
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    expect(JSON.stringify(entries)).not.toContain('42');
  });

  it('keeps only the latest entries of each actor, and forgets the first actor past the limit', async () => {
    const log = new InspectionLog({ perActor: 3, maxActors: 2 });
    await runJob(log, 'p', 'a');
    await runJob(log, 'p', 'b');
    expect(log.events('p', 'a')).toHaveLength(3);
    expect(log.events('p', 'a').at(-1)).toMatchObject({ status: 'stopped' });
    await runJob(log, 'q', 'c');
    expect(log.actors('p')).toEqual(['b']);
    expect(log.actors('q')).toEqual(['c']);
    expect(log.events('p', 'a')).toEqual([]);
  });
});
