import type { ServerResponse } from 'node:http';

/** Open server-sent-event streams; `send` writes one event to all of them. */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();

  get size(): number {
    return this.clients.size;
  }

  /** Starts an event stream on `res`; it leaves the hub when the client goes away. */
  open(res: ServerResponse, onOpen?: (send: (event: string, data: unknown) => void) => void): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    onOpen?.((event, data) => res.write(frame(event, data)));
  }

  /** Sends one event (JSON data) to every open stream. */
  send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, data);
    for (const res of this.clients) res.write(text);
  }

  /** Ends every stream. */
  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

/** One SSE frame; JSON never holds a raw newline, so one `data:` line suffices. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
