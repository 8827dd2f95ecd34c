// A pipeline over a source of our own (paged-source.ts): `npx tsx examples/custom-source/main.ts`.
// The "API" here is a function over an array, paged by 4, with a pause per page as a network has.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createPipeline, defineStage, toArray, type SteadfastError } from '../../src/index.js';
import { fromPages, type Page } from './paged-source.js';

interface Reading {
  sensor: string;
  celsius: number;
}

const READINGS: unknown[] = [
  { sensor: 'a', celsius: 21.5 },
  { sensor: 'b', celsius: 19 },
  { sensor: 'a', celsius: 22 },
  { sensor: 'c', celsius: 'hot' }, // not a reading: reported, skipped
  { sensor: 'b', celsius: 18.5 },
  { sensor: 'c', celsius: 25 },
  { sensor: 'a', celsius: 23 },
  { sensor: 'b', celsius: 20 },
  { sensor: 'c', celsius: 24 },
  { sensor: 'a', celsius: 21 },
];

const PAGE = 4;
let pagesFetched = 0;

/** The fake API: the cursor is the index of the page's first item. */
async function fetchPage(cursor: string | undefined, signal: AbortSignal): Promise<Page> {
  await nextTurn(undefined, { signal });
  pagesFetched++;
  const from = cursor === undefined ? 0 : Number(cursor);
  const to = from + PAGE;
  return to < READINGS.length ? { items: READINGS.slice(from, to), next: String(to) } : { items: READINGS.slice(from) };
}

function isReading(item: unknown): item is Reading {
  return typeof item === 'object' && item !== null && typeof (item as Reading).sensor === 'string' && typeof (item as Reading).celsius === 'number';
}

// Per sensor: the number of readings and the highest temperature.
const highest = defineStage({
  name: 'highest',
  initialState: () => ({}) as Record<string, { readings: number; max: number }>,
  process: (reading: Reading, state) => {
    const seen = state[reading.sensor];
    const next = { readings: (seen?.readings ?? 0) + 1, max: Math.max(seen?.max ?? -Infinity, reading.celsius) };
    return { state: { ...state, [reading.sensor]: next }, emit: [{ ...reading, max: next.max }] };
  },
});

const sink = toArray<Reading & { max: number }>();
const problems: SteadfastError[] = [];
const pipeline = createPipeline({
  name: 'sensors',
  source: fromPages('sensors', fetchPage, isReading),
  stages: [highest],
  sink,
  logLevel: 'warn',
  onError: (error) => problems.push(error),
});

await pipeline.start();
await pipeline.done;

console.log(`${sink.items.length} readings from ${pagesFetched} pages, offsets ${sink.offsets.join(' ')}`);
for (const [sensor, { readings, max }] of Object.entries(pipeline.stageState(highest))) console.log(`sensor ${sensor}: ${readings} readings, max ${max} °C`);
for (const error of problems) console.log(`reported: ${error.code}: ${error.message}`);
