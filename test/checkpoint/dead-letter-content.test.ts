import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { DeadLetterBox } from '../../src/checkpoint/dead-letters.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { systemClock } from '../../src/core/clock.js';
import { CheckpointStoreError, StageCallError, type SteadfastError } from '../../src/core/errors.js';
import { createPipeline, defineStage, fromIterable } from '../../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-dlq-content-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const silent = pino({ level: 'silent' });

/** Events a json store could not hold as they are: each one must still become a stored letter. */
function awkwardEvents(): unknown[] {
  const cyclic: Record<string, unknown> = { id: 'loop' };
  cyclic.self = cyclic;
  return [
    { id: 'big', amount: 10n ** 20n },
    { id: 'fn', cb: () => 1 },
    Symbol('bare'),
    () => 'bare function',
    cyclic,
    { id: 'map', seen: new Map([['k', 1]]) },
    {
      id: 'getter',
      get broken(): never {
        throw new Error('getter exploded');
      },
    },
  ];
}

const refuseAll = defineStage({
  name: 'refuse',
  retry: { maxAttempts: 1 },
  degraded: 'deadLetter',
  process: (): never => {
    throw new Error('down');
  },
});

/** A store that refuses every dead letter, as a full disk would. */
function refusingLetters(store: CheckpointStore): CheckpointStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'putDeadLetter' || property === 'putDeadLetters') return () => Promise.reject(new CheckpointStoreError('CHECKPOINT_STORE_FAILED', 'memory', 'ENOSPC: no space left on device'));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('dead letters whose events the codec cannot encode as they are', () => {
  it('stores every one, with placeholders that say what was replaced and where', async () => {
    const pipeline = createPipeline({ name: 'awkward', source: fromIterable(awkwardEvents()), stages: [refuseAll], logLevel: 'silent', onError: () => {}, checkpoint: { dir } });
    const stats = await pipeline.run();
    const sent = stats.stages.refuse!.resilience!.deadLetters;
    expect(sent).toBe(7);

    const store = createCheckpointStore({ dir });
    const reads = await store.deadLetters('awkward');
    await store.close();
    expect(reads.every((r) => r.ok)).toBe(true);
    const events = reads.map((r) => (r.ok ? r.value.event : r.reason));
    expect(events).toEqual([
      { id: 'big', amount: 10n ** 20n },
      { id: 'fn', cb: { $unencodable: 'function', path: 'event.cb' } },
      { $unencodable: 'symbol', path: 'event' },
      { $unencodable: 'function', path: 'event' },
      { id: 'loop', self: { $unencodable: 'cycle', path: 'event.self' } },
      { id: 'map', seen: new Map([['k', 1]]) },
      { $unencodable: 'event', path: 'event', reason: expect.stringMatching(/getter exploded/) },
    ]);
  });

  it('keeps the stored count and the letters listed in step: what was counted stored can be listed', async () => {
    const store = createCheckpointStore({ kind: 'memory' });
    const box = new DeadLetterBox(store, 'p', silent, systemClock, false);
    const events = awkwardEvents();
    box.record(new StageCallError('DEAD_LETTER', 's', 'down', { offsets: events.map((_, i) => i), events }, new Error('down')));
    expect(box.counts().pending).toBe(7);
    const listed = await box.list();
    expect(listed).toHaveLength(7);
    expect(box.counts()).toEqual({ stored: 7, altered: 5, notStored: 0, pending: 0 });
    await store.close();
  });

  it('falls back from v8 to json with placeholders for an event v8 cannot clone', async () => {
    const store = createCheckpointStore({ dir, codec: 'v8' });
    const box = new DeadLetterBox(store, 'p', silent, systemClock, true);
    box.record(new StageCallError('DEAD_LETTER', 's', 'down', { offsets: [0, 1], events: [{ fn: () => 1, at: new Date(0) }, { kept: new Set([1n]) }] }, new Error('down')));
    const listed = await box.list();
    expect(listed.map((l) => l.event)).toEqual([{ fn: { $unencodable: 'function', path: 'event.fn' }, at: new Date(0) }, { kept: new Set([1n]) }]);
    expect(box.counts()).toMatchObject({ stored: 2, altered: 1, notStored: 0 });
    await store.close();
  });

  it('counts a letter the store refused as not stored, and reports it with its event as DEAD_LETTER_NOT_STORED', async () => {
    const reported: SteadfastError[] = [];
    const store = refusingLetters(createCheckpointStore({ kind: 'memory' }));
    const box = new DeadLetterBox(store, 'p', silent, systemClock, false, (error) => reported.push(error));
    box.record(new StageCallError('DEAD_LETTER', 's', 'down', { offsets: [4], events: [{ id: 4 }] }, new Error('down')));
    await box.flushed();
    expect(box.counts()).toEqual({ stored: 0, altered: 0, notStored: 1, pending: 0 });
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ code: 'DEAD_LETTER_NOT_STORED', stage: 's', offsets: [4], events: [{ id: 4 }] });
    expect(reported[0]!.message).toMatch(/dead letter of stage "s" at offset 4 not stored: .*ENOSPC/);
    expect(await box.list()).toEqual([]);
    await store.close();
  });

  it('tells onError of a pipeline when a dead letter could not be stored', async () => {
    const errors: SteadfastError[] = [];
    const store = refusingLetters(createCheckpointStore({ kind: 'memory' }));
    const pipeline = createPipeline({ name: 'full', source: fromIterable([1, 2]), stages: [refuseAll], logLevel: 'silent', onError: (e) => void errors.push(e), checkpoint: { store } });
    await pipeline.run();
    expect(errors.filter((e) => e.code === 'DEAD_LETTER')).toHaveLength(2);
    expect(errors.filter((e) => e.code === 'DEAD_LETTER_NOT_STORED').map((e) => (e as StageCallError).offsets)).toEqual([[0], [1]]);
  });
});
