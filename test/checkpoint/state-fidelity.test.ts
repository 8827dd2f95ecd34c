import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { createCheckpointWriter } from '../../src/checkpoint/writer.js';
import { createPipeline, defineStage, fromIterable } from '../../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-fidelity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pino logger whose lines land in `lines`. */
function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

interface Rich {
  byUser: Map<string, number>;
  seen: Set<number>;
  since: Date | null;
  total: bigint;
  constructor: { prototype: string };
  ratios: number[];
}

const rich = defineStage({
  name: 'rich',
  initialState: (): Rich => ({ byUser: new Map(), seen: new Set(), since: null, total: 0n, constructor: { prototype: 'kept' }, ratios: [] }),
  process: (e: { user: string; n: number }, s: Rich) => {
    const byUser = new Map(s.byUser).set(e.user, (s.byUser.get(e.user) ?? 0) + e.n);
    return {
      state: { ...s, byUser, seen: new Set(s.seen).add(e.n), since: s.since ?? new Date(Date.UTC(2024, 0, 1)), total: s.total + BigInt(e.n), ratios: [...s.ratios, e.n === 0 ? Number.NaN : 1 / e.n] },
      emit: [],
    };
  },
});

const events = [
  { user: 'a', n: 1 },
  { user: 'b', n: 2 },
  { user: 'a', n: 0 },
];

describe('stage state through a json checkpoint', () => {
  it('comes back with its Maps, Sets, dates, BigInts, NaN and constructor keys after a restart', async () => {
    const first = createPipeline({ name: 'rich', source: fromIterable(events), stages: [rich], logLevel: 'silent', checkpoint: { dir } });
    const stats = await first.run();
    expect(stats.checkpoint?.failed).toBe(0);
    const before = first.stageState<Rich>('rich');

    const second = createPipeline({ name: 'rich', source: fromIterable(events), stages: [rich], logLevel: 'silent', checkpoint: { dir } });
    const again = await second.run();
    expect(again.checkpoint?.restored?.offset).toBe(2);
    expect(again.source.events).toBe(0);
    const after = second.stageState<Rich>('rich');
    expect(after.byUser).toEqual(new Map([['a', 1], ['b', 2]]));
    expect(after.seen).toEqual(new Set([1, 2, 0]));
    expect(after.since).toEqual(new Date(Date.UTC(2024, 0, 1)));
    expect(after.total).toBe(3n);
    expect(after.constructor).toEqual({ prototype: 'kept' });
    expect(after.ratios).toEqual([1, 0.5, Number.NaN]);
    expect(after).toEqual(before);
  });

  it('warns once per stage and kind of loss, with the path, however many snapshots lose it', async () => {
    const { logger, lines } = capture();
    const store = createCheckpointStore({ dir });
    const writer = createCheckpointWriter({ store, pipeline: 'p', stage: 'lossy', logger });
    class Session {
      constructor(readonly id: string) {}
    }
    for (let version = 1; version <= 3; version++) {
      const state = { value: { onTick: () => version, at: new Session('s1'), later: { cb: () => 0 } } };
      const outcome = await writer.write({ pipeline: 'p', stage: 'lossy', version, offset: version, checkpointId: `c${version}`, createdAt: Date.now(), state });
      expect(outcome.written).toBe(true);
    }
    await writer.close();
    await store.close();
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings.map((w) => [w.loss, w.path, w.stage])).toEqual([
      ['function', 'state.value.onTick', 'lossy'],
      ['instance', 'state.value.at', 'lossy'],
    ]);
    expect(warnings[0]!.msg).toMatch(/the state of stage "lossy" is not stored as it is: state\.value\.onTick: function onTick left out/);
    expect(warnings[1]!.msg).toMatch(/instance of Session/);
  });
});
