// Deterministic order generator: writes N orders as NDJSON, streamed, with a few deliberately bad
// records (for the validate stage) and a few lines that are not JSON (for the source's error path).
//
//   npx tsx examples/orders/generate.ts [--orders 200000] [--out examples/orders/data/orders.ndjson] [--seed 42]

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Where the data goes unless told otherwise (the `data/` folder is git-ignored). */
export const DATA_DIR = fileURLToPath(new URL('./data/', import.meta.url));
export const DEFAULT_ORDERS_PATH = resolve(DATA_DIR, 'orders.ndjson');
export const DEFAULT_ORDERS = 200_000;
export const DEFAULT_SEED = 42;
export const CUSTOMERS = 1_000;

/** Share of orders that are deliberately invalid. */
const BAD_SHARE = 0.005;
/** Lines that are not valid JSON, inserted after these fractions of the orders. */
const MALFORMED_AT = [0.25, 0.5, 0.75] as const;
/** Lines per write: big enough to amortise the call, small enough to stream. */
const LINES_PER_CHUNK = 2_000;

export type BadKind = 'negative-qty' | 'unknown-currency' | 'missing-customer';

/** What a generation produced; written beside the data as `<file>.meta.json`. */
export interface GenerateSummary {
  path: string;
  seed: number;
  /** Order records written (valid and bad), i.e. lines that are valid JSON. */
  orders: number;
  /** All lines in the file (orders plus malformed lines). */
  lines: number;
  /** Deliberately invalid orders, by kind. */
  bad: Record<BadKind, number>;
  /** 1-based line numbers of the lines that are not valid JSON. */
  malformedLines: number[];
  bytes: number;
}

/** The record as it appears on a line (a missing customer is simply absent). */
interface RawOrderLine {
  id: string;
  customer?: string;
  sku: string;
  qty: number;
  unitPrice: number;
  currency: string;
  ts: string;
}

/** mulberry32: a tiny, fast, seedable PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SKUS: readonly { sku: string; cents: number }[] = Array.from({ length: 48 }, (_, i) => ({
  sku: `SKU-${String(100 + i * 7).padStart(4, '0')}`,
  // list prices from 1.99 to ~250
  cents: 199 + Math.round(((i * 37) % 48) ** 2 * 10.8),
}));

const MALFORMED: readonly ((id: string) => string)[] = [
  (id) => `{"id":"${id}","customer":"c-00`, // truncated write
  () => `this is not json`,
  (id) => `{"id":"${id}","qty":3,}`, // trailing comma
];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Writes `orders` orders to `path` (atomically: a temporary file renamed at the end) and a
 * `<path>.meta.json` summary. Same seed and count → same bytes.
 */
export async function generateOrders(options: { path?: string; orders?: number; seed?: number } = {}): Promise<GenerateSummary> {
  const path = resolve(options.path ?? DEFAULT_ORDERS_PATH);
  const orders = options.orders ?? DEFAULT_ORDERS;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(orders) || orders < 1) throw new Error(`orders must be a positive integer, got ${orders}`);

  const random = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const idWidth = Math.max(6, String(orders).length);
  const malformedAfter = MALFORMED_AT.map((share) => Math.max(1, Math.floor(orders * share)));

  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(temp, { encoding: 'utf8' });
  const summary: GenerateSummary = {
    path,
    seed,
    orders,
    lines: 0,
    bad: { 'negative-qty': 0, 'unknown-currency': 0, 'missing-customer': 0 },
    malformedLines: [],
    bytes: 0,
  };

  let chunk = '';
  let chunkLines = 0;
  const push = async (line: string) => {
    chunk += line + '\n';
    summary.lines++;
    if (++chunkLines < LINES_PER_CHUNK) return;
    await flush();
  };
  const flush = async () => {
    if (chunk.length === 0) return;
    summary.bytes += Buffer.byteLength(chunk);
    const ok = out.write(chunk);
    chunk = '';
    chunkLines = 0;
    if (!ok) await once(out, 'drain');
  };

  try {
    let ts = Date.UTC(2024, 0, 1);
    let malformed = 0;
    for (let i = 1; i <= orders; i++) {
      ts += int(1, 300) * 1_000; // one order every 2.5 minutes on average
      // Skewed towards low customer numbers, so that a few customers stand out.
      const customer = `c-${pad(1 + Math.floor(CUSTOMERS * random() ** 2), 4)}`;
      const item = SKUS[int(0, SKUS.length - 1)] as (typeof SKUS)[number];
      const r = random();
      const currency = r < 0.6 ? 'EUR' : r < 0.85 ? 'USD' : 'GBP';
      const record: RawOrderLine = {
        id: `o-${pad(i, idWidth)}`,
        customer,
        sku: item.sku,
        qty: random() < 0.7 ? int(1, 3) : int(4, 12),
        // local price: list price ±10 %
        unitPrice: Math.round(item.cents * (0.9 + random() * 0.2)),
        currency,
        ts: new Date(ts).toISOString(),
      };
      if (random() < BAD_SHARE) {
        const kind = (['negative-qty', 'unknown-currency', 'missing-customer'] as const)[int(0, 2)] as BadKind;
        summary.bad[kind]++;
        if (kind === 'negative-qty') record.qty = -int(1, 5);
        else if (kind === 'unknown-currency') record.currency = random() < 0.5 ? 'JPY' : 'XXX';
        else delete record.customer;
      }
      await push(JSON.stringify(record));
      while (malformed < malformedAfter.length && malformedAfter[malformed] === i) {
        const make = MALFORMED[malformed % MALFORMED.length] as (id: string) => string;
        await push(make(`o-${pad(i, idWidth)}x`));
        summary.malformedLines.push(summary.lines);
        malformed++;
      }
    }
    await flush();
    out.end();
    await finished(out);
    await rename(temp, path);
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
  await writeFile(metaPath(path), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** Where the summary of a generated file is kept. */
export function metaPath(path: string): string {
  return `${resolve(path)}.meta.json`;
}

// Run directly: `npx tsx examples/orders/generate.ts --orders 1000`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const { values } = parseArgs({
      options: { orders: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
      strict: true,
    });
    const started = performance.now();
    const summary = await generateOrders({
      orders: values.orders === undefined ? DEFAULT_ORDERS : Number(values.orders),
      seed: values.seed === undefined ? DEFAULT_SEED : Number(values.seed),
      ...(values.out === undefined ? {} : { path: values.out }),
    });
    const ms = performance.now() - started;
    console.log(
      `wrote ${summary.orders} orders (${summary.lines} lines, ${(summary.bytes / 1e6).toFixed(1)} MB) to ${summary.path} in ${ms.toFixed(0)} ms`,
    );
  } catch (error) {
    console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
