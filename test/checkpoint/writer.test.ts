import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createCheckpointWriter, type CheckpointWriter, type CheckpointWriterOptions, type WriteOutcome } from '../../src/checkpoint/writer.js';
import type { CheckpointStore, Snapshot, WriteOptions, WriteReceipt } from '../../src/checkpoint/types.js';
import { isSteadfastError } from '../../src/core/errors.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

interface StoreCall {
  snapshot: Snapshot;
  options: WriteOptions | undefined;
  /** Confirms the write after `ms` of simulated time. */
  finish(ms?: number): void;
  fail(error: unknown): void;
}

const unused = (name: string) => (): never => {
  throw new Error(`the writer does not use store.${name}`);
};

/** A store whose opens and writes finish when the test says, on a simulated clock. */
class FakeStore implements CheckpointStore {
  readonly kind = 'memory' as const;
  readonly location = 'memory';
  readonly codec = 'json' as const;
  isOpen = false;
  opens = 0;
  time = 0;
  inFlight = 0;
  maxInFlight = 0;
  readonly calls: StoreCall[] = [];
  readonly stored: Snapshot[] = [];
  private openGate: Promise<void> | undefined;
  private releaseOpen: ((error?: unknown) => void) | undefined;

  /** Makes `open()` wait until `finishOpen()` / `failOpen()`. */
  holdOpen(): void {
    this.openGate = new Promise<void>((resolve, reject) => (this.releaseOpen = (error) => (error === undefined ? resolve() : reject(error))));
  }

  finishOpen(error?: unknown): void {
    this.releaseOpen?.(error);
  }

  async open(): Promise<void> {
    this.opens++;
    await this.openGate;
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  writeSnapshot(snapshot: Snapshot, options?: WriteOptions): Promise<WriteReceipt> {
    if (!this.isOpen) return Promise.reject(new Error('write before open'));
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    return new Promise((resolve, reject) => {
      this.calls.push({
        snapshot,
        options,
        finish: (ms = 0) => {
          this.time += ms;
          this.inFlight--;
          this.stored.push(snapshot);
          resolve({ key: `ckpt!${snapshot.pipeline}!${snapshot.stage}!${snapshot.version}`, bytes: 100 + snapshot.version, checksum: 'af63dc4c8601ec8c' });
        },
        fail: (error) => {
          this.inFlight--;
          reject(error);
        },
      });
    });
  }

  /** The write the writer has in flight (the store never has more than one from it). */
  get current(): StoreCall {
    const call = this.calls[this.calls.length - 1];
    if (call === undefined || this.inFlight === 0) throw new Error('no write in flight');
    return call;
  }

  snapshots = unused('snapshots');
  readSnapshot = unused('readSnapshot');
  completeCheckpoint = unused('completeCheckpoint');
  completed = unused('completed');
  putDeadLetter = unused('putDeadLetter');
  putDeadLetters = unused('putDeadLetters');
  deadLetters = unused('deadLetters');
  markForReplay = unused('markForReplay');
  deleteKeys = unused('deleteKeys');
  pipelines = unused('pipelines');
  entries = unused('entries');
  appendJournal = unused('appendJournal');
  journal = unused('journal');
  pruneJournal = unused('pruneJournal');
  putRaw = unused('putRaw');
}

function snapshot(version: number, stage = 'enrich'): Snapshot {
  return { pipeline: 'orders', stage, version, offset: version * 10, checkpointId: `c${version}`, createdAt: 0, state: { seen: version } };
}

function setup(overrides: Partial<CheckpointWriterOptions> = {}, { holdOpen = false } = {}) {
  const store = new FakeStore();
  if (holdOpen) store.holdOpen();
  const clock = { now: () => store.time, monotonic: () => store.time };
  const writer = createCheckpointWriter({ store, pipeline: 'orders', stage: 'enrich', clock, ...overrides });
  return { store, writer };
}

/** Records how a promise settles, without awaiting it. */
function track<T>(promise: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const result: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(result, { value, settled: true }),
    (error: unknown) => Object.assign(result, { error, settled: true }),
  );
  return result;
}

async function opened(writer: CheckpointWriter): Promise<void> {
  await settle();
  expect(writer.state).toBe('open');
}

describe('checkpoint writer', () => {
  it('opens the store, writes a snapshot and resolves with its receipt, counting it', async () => {
    const { store, writer } = setup();
    await opened(writer);
    expect(store.opens).toBe(1);
    const outcome = track(writer.write(snapshot(1)));
    expect(writer.state).toBe('writing');
    await settle();
    expect(outcome.settled).toBe(false);
    store.current.finish(7);
    await settle();
    expect(outcome.value).toEqual({ written: true, receipt: { key: 'ckpt!orders!enrich!1', bytes: 101, checksum: 'af63dc4c8601ec8c' } });
    expect(writer.stats).toEqual({ written: 1, superseded: 0, failed: 0, bytes: 101, lastVersion: 1, lastMs: 7 });
    expect(writer.state).toBe('open');
    await writer.close();
  });

  it('waits for the store to open, writing only the newest of the snapshots that arrived meanwhile', async () => {
    const { store, writer } = setup({}, { holdOpen: true });
    await settle();
    expect(writer.state).toBe('opening');
    const first = track(writer.write(snapshot(1)));
    const second = track(writer.write(snapshot(2)));
    await settle();
    expect(first.value).toEqual({ written: false, supersededBy: 2 });
    expect(store.calls).toEqual([]);
    store.finishOpen();
    await settle();
    expect(store.calls.map((c) => c.snapshot.version)).toEqual([2]);
    store.current.finish();
    await settle();
    expect(second.value).toMatchObject({ written: true });
    expect(writer.stats).toMatchObject({ written: 1, superseded: 1 });
    await writer.close();
  });

  it('coalesces writes behind the one in flight: each older queued one resolves superseded at once, by the next', async () => {
    const { store, writer } = setup();
    await opened(writer);
    const results = [1, 2, 3, 4].map((v) => track(writer.write(snapshot(v))));
    await settle();
    expect(results.map((r) => r.value)).toEqual([undefined, { written: false, supersededBy: 3 }, { written: false, supersededBy: 4 }, undefined]);
    store.current.finish();
    await settle();
    store.current.finish();
    await settle();
    expect(store.stored.map((s) => s.version)).toEqual([1, 4]);
    expect(results[3]?.value).toMatchObject({ written: true, receipt: { key: 'ckpt!orders!enrich!4' } });
    expect(store.maxInFlight).toBe(1);
    await writer.close();
  });

  it('passes pruneBelow through, and syncs each snapshot only with sync: always', async () => {
    for (const [sync, expected] of [['always', true], ['checkpoint', false], ['never', false], [undefined, false]] as const) {
      const { store, writer } = setup(sync === undefined ? {} : { sync });
      await opened(writer);
      const done = writer.write(snapshot(5), { pruneBelow: 3 });
      await settle();
      expect(store.current.options, String(sync)).toEqual({ pruneBelow: 3, sync: expected });
      store.current.finish();
      await done;
      await writer.close();
    }
  });

  it('rejects with CHECKPOINT_STORE_FAILED (cause kept) when the store write fails, and goes on with the next', async () => {
    const { store, writer } = setup();
    await opened(writer);
    const failing = track(writer.write(snapshot(1)));
    const next = track(writer.write(snapshot(2)));
    const cause = new Error('disk full');
    store.current.fail(cause);
    await settle();
    expect(isSteadfastError(failing.error, 'CHECKPOINT_STORE_FAILED')).toBe(true);
    expect(failing.error).toMatchObject({ cause, location: 'memory', message: expect.stringMatching(/"orders\/enrich" version 1 failed: disk full/) });
    expect(writer.state).toBe('writing');
    store.current.finish();
    await settle();
    expect(next.value).toMatchObject({ written: true });
    expect(writer.stats).toMatchObject({ written: 1, failed: 1, lastVersion: 2 });
    await writer.close();
  });

  it('rejects a stale version with CHECKPOINT_STALE without touching the store', async () => {
    const { store, writer } = setup();
    await opened(writer);
    const first = writer.write(snapshot(3));
    await settle();
    store.current.finish();
    await first;
    const stale = [3, 2].map((v) => writer.write(snapshot(v)).catch((error: unknown) => error));
    for (const error of await Promise.all(stale)) {
      expect(isSteadfastError(error, 'CHECKPOINT_STALE')).toBe(true);
      expect((error as Error).message).toMatch(/version 3 is already written or pending/);
    }
    expect(store.calls).toHaveLength(1);
    expect(writer.state).toBe('open');
    await writer.close();
  });

  it('refuses a snapshot of another stage or pipeline, or with a bad version, with CONFIG_INVALID', async () => {
    const { store, writer } = setup();
    const other = writer.write(snapshot(1, 'parse'));
    await expect(other).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'snapshot.stage' });
    await expect(writer.write({ ...snapshot(1), pipeline: 'billing' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'snapshot.pipeline' });
    await expect(writer.write({ ...snapshot(1), version: 1.5 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'snapshot.version' });
    expect(store.calls).toHaveLength(0);
    await writer.close();
  });

  it('refuses bad options with CONFIG_INVALID', () => {
    const store = new FakeStore();
    expect(() => createCheckpointWriter({ store, pipeline: 'orders', stage: '' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'stage' }));
    expect(() => createCheckpointWriter({ store, pipeline: 'orders', stage: 's', sync: 'sometimes' as never })).toThrow(/sync must be one of 'always', 'checkpoint', 'never', got "sometimes"/);
  });

  it('close() finishes the write in flight and the queued one first, then stops the actor and leaves nothing behind', async () => {
    const before = activeResources();
    const { store, writer } = setup();
    await opened(writer);
    const inFlight = track(writer.write(snapshot(1)));
    const queued = track(writer.write(snapshot(2)));
    const closed = track(writer.close());
    await settle();
    expect(writer.state).toBe('closing');
    expect(closed.settled).toBe(false);
    store.current.finish();
    await settle();
    expect(inFlight.value).toMatchObject({ written: true });
    expect(closed.settled).toBe(false);
    store.current.finish();
    await settle();
    expect(queued.value).toMatchObject({ written: true });
    expect(closed).toEqual({ settled: true, value: undefined });
    expect(writer.state).toBe('closed');
    // Stopped in its final state: XState reports such an actor as 'done', with no child actor left.
    expect(writer.actor.getSnapshot().status).toBe('done');
    expect(writer.actor.getSnapshot().children).toEqual({});
    expect(store.inFlight).toBe(0);
    expect(store.isOpen).toBe(true);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('rejects writes with CHECKPOINT_STORE_CLOSED once close() is called, while closing and after', async () => {
    const { store, writer } = setup();
    await opened(writer);
    const inFlight = writer.write(snapshot(1));
    const closed = writer.close();
    await expect(writer.write(snapshot(2))).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_CLOSED', location: 'memory' });
    store.current.finish();
    await inFlight;
    await closed;
    await expect(writer.write(snapshot(3))).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_CLOSED' });
    expect(store.calls).toHaveLength(1);
  });

  it('close() is idempotent and does not wait for a store that is still opening when nothing is queued', async () => {
    const { store, writer } = setup({}, { holdOpen: true });
    const first = writer.close();
    expect(writer.close()).toBe(first);
    await first;
    expect(writer.state).toBe('closed');
    store.finishOpen();
    await settle();
  });

  it('fails when the store does not open: the queued write and later ones reject with CHECKPOINT_STORE_FAILED', async () => {
    const { store, writer } = setup({}, { holdOpen: true });
    const queued = track(writer.write(snapshot(1)));
    const locked = Object.assign(new Error('held by another process'), { code: 'CHECKPOINT_STORE_LOCKED' });
    store.finishOpen(locked);
    await settle();
    expect(writer.state).toBe('failed');
    expect(queued.error).toMatchObject({ code: 'CHECKPOINT_STORE_FAILED', cause: locked });
    await expect(writer.write(snapshot(2))).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_FAILED', cause: locked });
    expect(writer.stats.failed).toBe(1);
    await writer.close();
    expect(writer.state).toBe('failed');
  });

  it('logs through a child logger with the pipeline and stage: failures at warn, writes at debug', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const { store, writer } = setup({ logger });
    await opened(writer);
    const failed = writer.write(snapshot(1)).catch(() => undefined);
    store.current.fail(new Error('EIO'));
    await failed;
    const ok = writer.write(snapshot(2));
    await settle();
    store.current.finish(3);
    await ok;
    await writer.close();
    expect(lines.map((l) => [l.level, l.msg, l.version])).toEqual([
      [40, 'checkpoint write failed', 1],
      [20, 'checkpoint written', 2],
    ]);
    expect(lines[0]).toMatchObject({ pipeline: 'orders', stage: 'enrich', err: { message: 'EIO' } });
  });
});

describe('checkpoint writer, property', () => {
  type Op = { write: number } | { finish: boolean };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.integer({ min: 1, max: 3 }).map((gap) => ({ write: gap })),
    fc.boolean().map((ok) => ({ finish: ok })),
  );

  it('for any interleaving of writes and store completions: every write ends exactly once (written, superseded or failed), stored versions increase, one in flight at most', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const { store, writer } = setup();
        const outcomes: Array<{ version: number; result: ReturnType<typeof track<WriteOutcome>> }> = [];
        let version = 0;
        const completeOne = (ok: boolean) => {
          if (store.inFlight === 0) return;
          if (ok) store.current.finish(1);
          else store.current.fail(new Error('EIO'));
        };
        for (const o of ops) {
          if ('write' in o) {
            version += o.write;
            outcomes.push({ version, result: track(writer.write(snapshot(version))) });
          } else {
            completeOne(o.finish);
          }
          await settle();
        }
        const closed = track(writer.close());
        for (let i = 0; i < 10 && !closed.settled; i++) {
          completeOne(true);
          await settle();
        }
        expect(closed.settled).toBe(true);

        for (const { version: v, result } of outcomes) {
          expect(result.settled, `version ${v}`).toBe(true);
          if (result.value?.written === false) expect(result.value.supersededBy).toBeGreaterThan(v);
          if (result.error !== undefined) expect(isSteadfastError(result.error, 'CHECKPOINT_STORE_FAILED')).toBe(true);
        }
        const written = outcomes.filter((o) => o.result.value?.written === true).map((o) => o.version);
        const superseded = outcomes.filter((o) => o.result.value?.written === false).length;
        const failed = outcomes.filter((o) => o.result.error !== undefined).length;
        expect(written.length + superseded + failed).toBe(outcomes.length);
        expect(store.stored.map((s) => s.version)).toEqual(written);
        for (let i = 1; i < written.length; i++) expect(written[i]).toBeGreaterThan(written[i - 1] ?? 0);
        expect(store.maxInFlight).toBeLessThanOrEqual(1);
        expect(writer.stats).toMatchObject({ written: written.length, superseded, failed, lastVersion: written.at(-1) });
        expect(writer.state).toBe('closed');
      }),
      { numRuns: 200 },
    );
  });
});
