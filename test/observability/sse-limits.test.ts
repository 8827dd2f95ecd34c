import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { serve, type ObservabilityServer } from '../../src/observability/server.js';
import { resolveServeOptions } from '../../src/observability/server-options.js';
import { expectConfigError } from '../helpers/config-error.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';
import { httpGet, openEvents } from './http.js';
import { stubPipeline, type StubPipeline } from './stub-pipeline.js';

async function until(check: () => boolean, timeout = 10_000): Promise<void> {
  await vi.waitFor(() => expect(check()).toBe(true), { timeout, interval: 5 });
}

/** A client that asks for /events over a raw socket and never reads a byte of the answer. */
async function neverReads(server: ObservabilityServer): Promise<{ socket: Socket; closed: Promise<void>; received: { bytes: number } }> {
  const { port } = server;
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.pause(); // reads nothing: the kernel buffers fill, then the server's
  socket.on('error', () => {}); // a reset by the server is what the test expects
  const received = { bytes: 0 };
  socket.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return { socket, closed, received };
}

/** Emits `count` observations of about 8 KiB, letting I/O run every few so that clients that read keep up. */
async function flood(p: StubPipeline, count: number, stop: () => boolean): Promise<number> {
  const name = 'b'.repeat(8_192);
  for (let i = 0; i < count; i++) {
    if (stop()) return i;
    p.observers.emit({ type: 'steadfast.breaker.transition', breaker: name, state: i % 2 === 0 ? 'open' : 'closed' });
    if (i % 4 === 3) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return count;
}

function captured() {
  const lines: Array<{ level: number; msg: string }> = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) }) };
}

describe('/events limits (a real server on 127.0.0.1)', () => {
  it('refuses the stream over maxClients with 503 and Retry-After, and takes one again when a stream closes', async () => {
    const before = activeResources();
    const server = await serve({ pipelines: [stubPipeline('cap', ['s'])], port: 0, maxClients: 2, updateMs: 50 });
    const streams = [await openEvents(server.url), await openEvents(server.url)];
    try {
      for (const stream of streams) await stream.next((e) => e.event === 'snapshot');
      const refused = await httpGet(server.url, '/events');
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('10');
      expect(refused.body).toBe('too many event streams: 2 open (serve option maxClients); retry after 10 s\n');
      expect(server.streams()).toMatchObject({ open: 2, rejected: 1, dropped: 0 });
      streams.shift()?.close();
      await until(() => server.streams().open === 1);
      const again = await openEvents(server.url);
      streams.push(again);
      await again.next((e) => e.event === 'snapshot');
      expect(server.streams()).toMatchObject({ open: 2, rejected: 1 });
    } finally {
      await server.close();
      for (const stream of streams) stream.close();
    }
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('drops a client that never reads once it holds more than maxBufferedBytes and frees what it held, while a reading client keeps its stream', async () => {
    const before = activeResources();
    const { lines, logger } = captured();
    const p = stubPipeline('slow', ['s']);
    const server = await serve({ pipelines: [p], port: 0, maxBufferedBytes: 256 * 1024, logger });
    const reader = await openEvents(server.url);
    const idle = await neverReads(server);
    try {
      await until(() => server.streams().open === 2);
      // Far more than the kernel buffers of a loopback socket and the limit together.
      const sent = await flood(p, 8_000, () => server.streams().dropped > 0);
      expect(sent).toBeLessThan(8_000);
      expect(server.streams()).toMatchObject({ open: 1, dropped: 1 });
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/^event stream dropped: the client does not read \(\d+ bytes unsent, over maxBufferedBytes \(262144\)\)/)]);
      // The client sees its stream end once it reads what the kernels had; the more than 256 KiB the
      // server held for it were thrown away (destroyed, not ended and flushed): they never arrive.
      idle.socket.resume();
      await idle.closed;
      // The reader got everything up to now (the same bytes the idle client was sent), and still gets what follows.
      await until(() => reader.events.filter((e) => e.event === 'observation').length === sent);
      expect(idle.received.bytes).toBeLessThan(reader.bytes - 200 * 1024);
      p.observers.emit({ type: 'steadfast.breaker.transition', breaker: 'after', state: 'open' });
      await reader.next((e) => e.event === 'observation' && (e.data as { event: { breaker: string } }).event.breaker === 'after');
    } finally {
      await server.close();
      reader.close();
      idle.socket.destroy();
    }
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('drops a client whose socket stays full past drainTimeoutMs, even under maxBufferedBytes', async () => {
    const before = activeResources();
    const { lines, logger } = captured();
    const p = stubPipeline('stall', ['s']);
    const server = await serve({ pipelines: [p], port: 0, maxBufferedBytes: 512 * 1024 * 1024, drainTimeoutMs: 100, logger });
    const idle = await neverReads(server);
    try {
      await until(() => server.streams().open === 1);
      // Until the socket is full and the server holds some of it (the drain timer runs from there).
      await flood(p, 8_000, () => server.streams().bufferedBytes > 64 * 1024);
      expect(server.streams().bufferedBytes).toBeGreaterThan(64 * 1024);
      await until(() => server.streams().dropped === 1);
      expect(server.streams()).toMatchObject({ open: 0, bufferedBytes: 0 });
      expect(lines.find((l) => l.level === 40)?.msg).toMatch(/not drained within drainTimeoutMs \(100 ms\)/);
      idle.socket.resume();
      await idle.closed;
    } finally {
      await server.close();
      idle.socket.destroy();
    }
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('checks maxClients, maxBufferedBytes, drainTimeoutMs and logger', () => {
    expectConfigError(() => resolveServeOptions({ pipelines: [], maxClients: 0 }), 'serve.maxClients', 0, '0');
    expectConfigError(() => resolveServeOptions({ pipelines: [], maxBufferedBytes: 1.5 }), 'serve.maxBufferedBytes', 1.5, '1.5');
    expectConfigError(() => resolveServeOptions({ pipelines: [], drainTimeoutMs: 5 }), 'serve.drainTimeoutMs', 5, '5');
    expectConfigError(() => resolveServeOptions({ pipelines: [], logger: 'loud' }), 'serve.logger', 'loud', '"loud"');
    expect(resolveServeOptions({ pipelines: [] })).toMatchObject({ maxClients: 32, maxBufferedBytes: 1_048_576, drainTimeoutMs: 30_000, logger: undefined });
  });
});
