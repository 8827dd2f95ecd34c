// The soak's clients (bench/soak-body.ts): plain HTTP GETs, one event-stream reader, and the size
// of the store directory.
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';

/** What the event-stream client saw. */
export interface SseTally {
  snapshots: number;
  observations: number;
  bytes: number;
  connected: boolean;
  /** The stream closed before the client closed it. */
  endedEarly: boolean;
}

/** GET over a fresh connection (no keep-alive, so that no socket outlives the request); resolves with status and body size. */
export function get(url: string, path: string): Promise<{ status: number; bytes: number }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: target.hostname, port: target.port, path: target.pathname, agent: false, headers: { connection: 'close' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** One dashboard-like client on /events, reading every event as it comes. */
export function openEventStream(url: string, tally: SseTally): Promise<() => void> {
  const target = new URL('/events', url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: target.hostname, port: target.port, path: target.pathname, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`/events answered ${res.statusCode}`));
        res.resume();
        return;
      }
      tally.connected = true;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        tally.bytes += Buffer.byteLength(chunk);
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (event === 'snapshot') tally.snapshots++;
          else if (event === 'observation') tally.observations++;
        }
      });
      let closing = false;
      res.on('close', () => {
        if (!closing) tally.endedEarly = true;
      });
      resolve(() => {
        closing = true;
        req.destroy();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    try {
      total += (await stat(join(dir, name))).size;
    } catch {
      // LevelDB removed the file between readdir and stat (a compaction)
    }
  }
  return total;
}
