import { request, type IncomingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with full control of the Host header (fetch would set its own); no keep-alive. */
export function httpGet(url: string, path: string, options: { host?: string | null; method?: string } = {}): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close' };
    const req = request(
      { hostname: target.hostname, port: target.port, path, method: options.method ?? 'GET', headers, agent: false, setHost: options.host === undefined },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    if (typeof options.host === 'string') req.setHeader('host', options.host);
    req.on('error', reject);
    req.end();
  });
}

/** A server-sent-event stream read until `until` says enough (or the server ends it). */
export interface EventStream {
  events: Array<{ event: string; data: unknown }>;
  /** Bytes of the body received so far. */
  readonly bytes: number;
  /** Resolves once the server ended the stream. */
  ended: Promise<void>;
  /** Resolves with the first event that `match` accepts. */
  next(match: (e: { event: string; data: unknown }) => boolean): Promise<{ event: string; data: unknown }>;
  close(): void;
}

export function openEvents(url: string): Promise<EventStream> {
  const target = new URL('/events', url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: target.hostname, port: target.port, path: target.pathname, agent: false }, (res) => {
      const events: EventStream['events'] = [];
      const waiters: Array<{ match: (e: { event: string; data: unknown }) => boolean; resolve: (e: { event: string; data: unknown }) => void }> = [];
      let buffer = '';
      let bytes = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        bytes += Buffer.byteLength(chunk);
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          const parsed = { event, data: JSON.parse(data) as unknown };
          events.push(parsed);
          for (const w of [...waiters]) {
            if (w.match(parsed)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(parsed);
            }
          }
        }
      });
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({
        events,
        get bytes() {
          return bytes;
        },
        ended,
        next: (match) => {
          const found = events.find(match);
          if (found !== undefined) return Promise.resolve(found);
          return new Promise((r) => waiters.push({ match, resolve: r }));
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
