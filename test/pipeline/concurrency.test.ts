import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray, type SteadfastError, type StageCallError } from '../../src/index.js';
import { configErrorOf } from '../helpers/config-error.js';

// A real HTTP server on 127.0.0.1: /work?n=<n>&ms=<delay> answers n*2 after the delay, /hang never
// answers. It counts requests in flight (the most at once) and requests aborted by the client.
let server: Server;
let base = '';
const seen = { inFlight: 0, most: 0, aborted: 0, requests: 0 };

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  seen.requests++;
  seen.inFlight++;
  seen.most = Math.max(seen.most, seen.inFlight);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    seen.inFlight--;
  };
  req.on('close', () => {
    if (!res.writableEnded) seen.aborted++;
    finish();
  });
  if (url.pathname === '/hang') return;
  const n = Number(url.searchParams.get('n'));
  const ms = Number(url.searchParams.get('ms'));
  setTimeout(() => {
    finish();
    res.end(String(n * 2));
  }, ms);
}

function get(path: string, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { signal }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(Number(body)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  server = createServer(handle);
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function reset(): void {
  seen.most = 0;
  seen.aborted = 0;
  seen.requests = 0;
}

/** Delays that make later requests finish before earlier ones. */
const delay = (n: number) => 5 + ((n * 7919) % 23);

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('concurrency: calls in flight in one stage', () => {
  it('refuses concurrency on a stage with state, on a thread stage, and out of range, naming the field', () => {
    const stateful = configErrorOf(() => defineStage({ name: 's', concurrency: 4, initialState: () => 0, process: (e: number, n: number) => ({ state: n + e }) }));
    expect(stateful).toMatchObject({ code: 'CONFIG_INVALID', field: 'stage "s".concurrency', value: 4 });
    expect(stateful.message).toContain('state');
    const thread = configErrorOf(() => defineStage({ name: 't', concurrency: 2, isolation: 'thread', module: import.meta.url, process: (e: number) => ({ emit: [e] }) }));
    expect(thread).toMatchObject({ code: 'CONFIG_INVALID', field: 'stage "t".concurrency' });
    expect(configErrorOf(() => defineStage({ name: 'z', concurrency: 0, process: (e: number) => ({ emit: [e] }) })).field).toBe('stage "z".concurrency');
    expect(configErrorOf(() => defineStage({ name: 'o', ordered: 'yes' as unknown as boolean, process: (e: number) => ({ emit: [e] }) })).field).toBe('stage "o".ordered');
  });

  it('runs up to `concurrency` calls at once against a real server and keeps the outputs in input order', async () => {
    reset();
    const fetcher = defineStage({
      name: 'fetch',
      concurrency: 16,
      process: async (n: number, _s, ctx) => ({ emit: [await get(`/work?n=${n}&ms=${delay(n)}`, ctx.signal)] }),
    });
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'conc', source: fromIterable(numbers(300)), stages: [fetcher], sink, logLevel: 'silent' });
    const stats = await pipeline.run();
    expect(sink.items).toEqual(numbers(300).map((n) => n * 2));
    expect(seen.requests).toBe(300);
    expect(seen.most).toBeGreaterThan(8);
    expect(seen.most).toBeLessThanOrEqual(16);
    expect(stats.stages.fetch?.eventsIn).toBe(300);
  });

  it('with ordered: false emits each call as it ends: every output once, not waiting for earlier calls', async () => {
    reset();
    const fetcher = defineStage({
      name: 'fetch',
      concurrency: 8,
      ordered: false,
      process: async (n: number, _s, ctx) => ({ emit: [await get(`/work?n=${n}&ms=${delay(n)}`, ctx.signal)] }),
    });
    const sink = toArray<number>();
    await createPipeline({ name: 'unordered', source: fromIterable(numbers(200)), stages: [fetcher], sink, logLevel: 'silent' }).run();
    expect([...sink.items].sort((a, b) => a - b)).toEqual(numbers(200).map((n) => n * 2));
    expect(seen.most).toBeGreaterThan(4);
  });

  it('times out each hung call on its own, aborting its signal, while the others go on in order', async () => {
    reset();
    const errors: SteadfastError[] = [];
    const hangs = new Set([3, 17, 40]);
    const fetcher = defineStage({
      name: 'fetch',
      concurrency: 8,
      timeoutMs: 150,
      process: async (n: number, _s, ctx) => ({ emit: [await get(hangs.has(n) ? '/hang' : `/work?n=${n}&ms=${delay(n)}`, ctx.signal)] }),
    });
    const sink = toArray<number>();
    await createPipeline({ name: 'timeouts', source: fromIterable(numbers(60)), stages: [fetcher], sink, logLevel: 'silent', onError: (e) => errors.push(e) }).run();
    expect(sink.items).toEqual(numbers(60).filter((n) => !hangs.has(n)).map((n) => n * 2));
    expect(errors.map((e) => [e.code, (e as StageCallError).offsets[0]]).sort((a, b) => (a[1] as number) - (b[1] as number))).toEqual([
      ['STAGE_TIMEOUT', 3],
      ['STAGE_TIMEOUT', 17],
      ['STAGE_TIMEOUT', 40],
    ]);
    await expect.poll(() => seen.aborted).toBe(3);
  });

  it('keeps checkpoints exact: a barrier passes once every call before it has ended', async () => {
    reset();
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-conc-'));
    try {
      const fetcher = defineStage({
        name: 'fetch',
        concurrency: 8,
        process: async (n: number, _s, ctx) => ({ emit: [await get(`/work?n=${n}&ms=${delay(n) % 9}`, ctx.signal)] }),
      });
      const count = defineStage({
        name: 'count',
        initialState: () => ({ n: 0, sum: 0 }),
        process: (v: number, s: { n: number; sum: number }) => ({ state: { n: s.n + 1, sum: s.sum + v }, emit: [v] }),
      });
      const sink = toArray<number>();
      const pipeline = createPipeline({ name: 'conc-ckpt', source: fromIterable(numbers(400)), stages: [fetcher, count], sink, logLevel: 'silent', checkpoint: { dir, everyEvents: 50, everyMs: 0 } });
      const stats = await pipeline.run();
      expect(stats.checkpoint?.completed).toBeGreaterThanOrEqual(2);
      expect(stats.checkpoint?.failed ?? 0).toBe(0);
      // Each checkpoint's count agrees with its committed offset: the state holds exactly the events before it.
      expect(stats.checkpoint?.last?.offset).toBe(399);
      expect(pipeline.stageState<{ n: number; sum: number }>('count')).toEqual({ n: 400, sum: numbers(400).reduce((a, n) => a + n * 2, 0) });
      expect(sink.items).toEqual(numbers(400).map((n) => n * 2));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives every call in flight back, in order, when a failed call restarts the stage: each other output once, in input order', async () => {
    reset();
    let thrown = false;
    const errors: SteadfastError[] = [];
    const fetcher = defineStage({
      name: 'fetch',
      concurrency: 8,
      onFailure: 'restart',
      process: async (n: number, _s, ctx) => {
        const v = await get(`/work?n=${n}&ms=${delay(n)}`, ctx.signal);
        if (n === 77 && !thrown) {
          thrown = true;
          throw new Error('once');
        }
        return { emit: [v] };
      },
    });
    const sink = toArray<number>();
    const stats = await createPipeline({ name: 'restarts', source: fromIterable(numbers(200)), stages: [fetcher], sink, logLevel: 'silent', onError: (e) => errors.push(e), supervision: { backoff: { minMs: 0, maxMs: 0 } } }).run();
    expect(stats.stages.fetch?.restarts).toBe(1);
    expect(errors.map((e) => [e.code, (e as StageCallError).offsets])).toEqual([['STAGE_CALL_FAILED', [77]]]);
    expect(sink.items).toEqual(numbers(200).filter((n) => n !== 77).map((n) => n * 2));
  });

  it('retries each call on its own: every request that failed once is tried again, the outputs stay in order', async () => {
    reset();
    const failedOnce = new Set<number>();
    const fetcher = defineStage({
      name: 'fetch',
      concurrency: 8,
      retry: { maxAttempts: 3, backoff: 'constant', baseMs: 1, jitter: 0 },
      process: async (n: number, _s, ctx) => {
        const v = await get(`/work?n=${n}&ms=${delay(n)}`, ctx.signal);
        if (n % 5 === 0 && !failedOnce.has(n)) {
          failedOnce.add(n);
          throw new Error(`transient ${n}`);
        }
        return { emit: [v] };
      },
    });
    const sink = toArray<number>();
    const errors: SteadfastError[] = [];
    const stats = await createPipeline({ name: 'retries', source: fromIterable(numbers(100)), stages: [fetcher], sink, logLevel: 'silent', onError: (e) => errors.push(e) }).run();
    expect(errors).toEqual([]);
    expect(sink.items).toEqual(numbers(100).map((n) => n * 2));
    expect(stats.stages.fetch?.resilience?.retries).toBe(20);
    expect(seen.requests).toBe(120);
    expect(seen.most).toBeGreaterThan(2);
  });
});
