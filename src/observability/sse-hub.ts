import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { setTimer, systemClock, type CancelTimer } from '../core/clock.js';

/** Limits of an {@link SseHub}: how many streams, and how far a stream may fall behind. */
export interface SseLimits {
  /** Streams open at once; one more is refused with 503 and `Retry-After`. */
  maxClients: number;
  /** Bytes a stream may hold unsent (`res.writableLength`) once its socket is full; past it the stream is dropped. */
  maxBufferedBytes: number;
  /** Time a full stream has to drain; past it the stream is dropped. */
  drainTimeoutMs: number;
  /** Seconds in the `Retry-After` of a refusal. */
  retryAfterS: number;
}

/** Counters of the event streams; see `server.streams()`. */
export interface SseStats {
  /** Streams open now. */
  open: number;
  /** Streams refused because `maxClients` were open. */
  rejected: number;
  /** Streams ended because their client did not read (`maxBufferedBytes` or `drainTimeoutMs` passed). */
  dropped: number;
  /** Bytes written and not yet sent, over the open streams. */
  bufferedBytes: number;
}

/** One open stream; `timer` runs while its socket is full and it has not drained. */
interface Client {
  res: ServerResponse;
  timer: CancelTimer | undefined;
}

/**
 * Open server-sent-event streams; `send` writes one event to all of them. The number of streams is
 * capped, and a client that does not read is dropped instead of growing the server's memory: once
 * a write finds its socket full, the stream must drain within `drainTimeoutMs` and never hold more
 * than `maxBufferedBytes` unsent, else it is destroyed (its buffered bytes are freed at once).
 */
export class SseHub {
  private readonly clients = new Map<ServerResponse, Client>();
  private rejected = 0;
  private dropped = 0;

  constructor(
    private readonly limits: SseLimits,
    /** The logger for dropped streams (first at warn, later ones at debug), made when first needed. */
    private readonly log: () => Logger,
    /** Called when the last stream closes. */
    private readonly onEmpty: () => void = () => {},
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /**
   * Starts an event stream on `res` (it leaves the hub when the client goes away), or answers 503
   * when `maxClients` streams are open; true when the stream was opened.
   */
  open(res: ServerResponse, onOpen?: (send: (event: string, data: unknown) => void) => void): boolean {
    const { maxClients, retryAfterS } = this.limits;
    if (this.clients.size >= maxClients) {
      this.rejected++;
      res
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Retry-After': String(retryAfterS), Connection: 'close' })
        .end(`too many event streams: ${maxClients} open (serve option maxClients); retry after ${retryAfterS} s\n`);
      return false;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    const client: Client = { res, timer: undefined };
    this.clients.set(res, client);
    res.on('close', () => this.remove(client));
    this.write(client, 'retry: 2000\n\n');
    onOpen?.((event, data) => {
      if (this.clients.get(res) === client) this.write(client, frame(event, data));
    });
    return true;
  }

  /** Sends one event (JSON data) to every open stream; nothing is built while none is open. */
  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, data);
    for (const client of [...this.clients.values()]) this.write(client, text);
  }

  stats(): SseStats {
    let bufferedBytes = 0;
    for (const { res } of this.clients.values()) bufferedBytes += res.writableLength;
    return { open: this.clients.size, rejected: this.rejected, dropped: this.dropped, bufferedBytes };
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const client of [...this.clients.values()]) {
      this.remove(client);
      client.res.end();
    }
  }

  private write(client: Client, text: string): void {
    const { res } = client;
    if (res.write(text)) return;
    // The socket is full: the client reads slower than we write, or not at all.
    if (res.writableLength > this.limits.maxBufferedBytes) {
      this.drop(client, `${res.writableLength} bytes unsent, over maxBufferedBytes (${this.limits.maxBufferedBytes})`);
      return;
    }
    if (client.timer !== undefined) return;
    client.timer = setTimer(systemClock, this.limits.drainTimeoutMs, () => this.drop(client, `not drained within drainTimeoutMs (${this.limits.drainTimeoutMs} ms)`), { unref: true });
    res.once('drain', () => {
      client.timer?.();
      client.timer = undefined;
    });
  }

  /** Ends a stream whose client does not keep up; destroying (not ending) it frees what it buffered. */
  private drop(client: Client, reason: string): void {
    if (this.clients.get(client.res) !== client) return;
    this.remove(client);
    this.dropped++;
    const level = this.dropped === 1 ? 'warn' : 'debug';
    const socket = client.res.socket;
    this.log()[level]({ remote: socket?.remoteAddress, port: socket?.remotePort, dropped: this.dropped }, `event stream dropped: the client does not read (${reason})${level === 'warn' ? '; later drops are logged at debug, counted in server.streams().dropped' : ''}`);
    client.res.destroy();
  }

  private remove(client: Client): void {
    client.timer?.();
    client.timer = undefined;
    if (this.clients.get(client.res) !== client) return;
    this.clients.delete(client.res);
    if (this.clients.size === 0) this.onEmpty();
  }
}

/** One SSE frame; JSON never holds a raw newline, so one `data:` line suffices. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
