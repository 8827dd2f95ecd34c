import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, isSteadfastError, toArray } from '../../src/index.js';
import { fromPages, type FetchPage } from '../../examples/custom-source/paged-source.js';

const isNumber = (item: unknown): item is number => typeof item === 'number';

/** An API over `items` paged by `size`, counting its fetches. */
function api(items: unknown[], size: number): { fetchPage: FetchPage; fetches: () => number } {
  let fetches = 0;
  return {
    fetches: () => fetches,
    fetchPage: async (cursor) => {
      fetches++;
      const from = Number(cursor ?? 0);
      return from + size < items.length ? { items: items.slice(from, from + size), next: String(from + size) } : { items: items.slice(from) };
    },
  };
}

describe('the custom source example (examples/custom-source)', () => {
  it('runs as documented', async () => {
    const main = fileURLToPath(new URL('../../examples/custom-source/main.ts', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', main], { timeout: 20_000 }, (error, out) => (error ? reject(error) : resolve(out)));
    });
    expect(stdout).toBe(
      [
        '9 readings from 3 pages, offsets 0 1 2 4 5 6 7 8 9',
        'sensor a: 4 readings, max 23 °C',
        'sensor b: 3 readings, max 20 °C',
        'sensor c: 2 readings, max 25 °C',
        'reported: SOURCE_PARSE_FAILED: sensors: item at offset 3 is not valid: {"sensor":"c","celsius":"hot"}',
        '',
      ].join('\n'),
    );
  });

  it('hands out at most `max` items per read, at least one, then null; skips offsets before fromOffset', async () => {
    const { fetchPage } = api([10, 11, 12, 13, 14, 15, 16], 3);
    const errors: unknown[] = [];
    const reader = await fromPages('t', fetchPage, isNumber).open({ fromOffset: 2, onError: (error) => errors.push(error) });
    expect(await reader.read(2)).toEqual({ values: [12], offsets: [2] }); // the rest of the first page
    expect(await reader.read(2)).toEqual({ values: [13, 14], offsets: [3, 4] });
    expect(await reader.read(5)).toEqual({ values: [15], offsets: [5] });
    expect(await reader.read(5)).toEqual({ values: [16], offsets: [6] });
    expect(await reader.read(5)).toBeNull();
    await reader.close();
    expect(errors).toEqual([]);
  });

  it('resolves a pending read with null when closed (the pipeline stops while a page is fetched)', async () => {
    let started!: () => void;
    const fetching = new Promise<void>((resolve) => (started = resolve));
    const hanging: FetchPage = (_cursor, signal) =>
      new Promise((_resolve, reject) => {
        started();
        signal.addEventListener('abort', () => reject(signal.reason));
      });
    const reader = await fromPages('t', hanging, isNumber).open({ fromOffset: 0, onError: () => {} });
    const pending = reader.read(10);
    await fetching;
    await reader.close();
    expect(await pending).toBeNull();
  });

  it('fails the run with SOURCE_FAILED when a page cannot be fetched, after delivering what was read', async () => {
    const { fetchPage } = api([1, 2, 3, 4, 5, 6], 2);
    const failing: FetchPage = (cursor, signal) => (cursor === '4' ? Promise.reject(new Error('503 from the API')) : fetchPage(cursor, signal));
    const sink = toArray<number>();
    const pass = defineStage({ name: 'pass', process: (n: number) => ({ emit: [n] }) });
    const pipeline = createPipeline({ name: 'paged', source: fromPages('t', failing, isNumber), stages: [pass], sink, logLevel: 'silent' });
    await pipeline.start();
    const failure = await pipeline.done.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isSteadfastError(failure, 'SOURCE_FAILED')).toBe(true);
    expect((failure as Error).message).toBe('source pages:t failed: 503 from the API');
    expect(sink.items).toEqual([1, 2, 3, 4]);
  });
});
