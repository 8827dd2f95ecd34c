// A source of our own: the items of a paged API (a cursor per page, as most HTTP APIs have), one
// offset per item. It follows the contract in docs/sources-and-sinks.md ("Writing a source").
import { SteadfastError, type Batch, type Source, type SourceOpenOptions, type SourceReader } from '../../src/index.js';

/** One page of the API: its items (checked by the source), and the cursor of the next page (none on the last). */
export interface Page {
  items: unknown[];
  next?: string;
}

/** Fetches the page at `cursor` (the first page without one); `signal` aborts when the pipeline stops. */
export type FetchPage = (cursor: string | undefined, signal: AbortSignal) => Promise<Page>;

/**
 * The items of a paged API as a source: offsets 0, 1, 2, ... across pages; an item `accept` rejects
 * is reported to the pipeline's `onError` and skipped (reading goes on); a replay from `fromOffset`
 * pages through from the start and skips what came before (an API with an offset parameter would
 * jump there instead).
 */
export function fromPages<T>(name: string, fetchPage: FetchPage, accept: (item: unknown) => item is T): Source<T> {
  return {
    kind: 'source',
    name: `pages:${name}`,
    open: (options) => new PagedReader(fetchPage, accept, options, name),
  };
}

class PagedReader<T> implements SourceReader<T> {
  private buffer: { value: T; offset: number }[] = [];
  private cursor: string | undefined;
  private lastPage = false;
  private nextOffset = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly accept: (item: unknown) => item is T,
    private readonly options: SourceOpenOptions,
    private readonly name: string,
  ) {}

  // Up to `max` items, at least one, or null at the end (or once closed). One read at a time: the
  // pipeline awaits each before the next, so there is no concurrent fetch to guard against.
  async read(max: number): Promise<Batch<T> | null> {
    while (this.buffer.length === 0) {
      if (this.lastPage || this.abort.signal.aborted) return null;
      let page: Page;
      try {
        page = await this.fetchPage(this.cursor, this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return null; // closed while fetching: a pending read resolves null
        throw error; // the pipeline reports SOURCE_FAILED, drains what was read, and fails `done`
      }
      if (this.abort.signal.aborted) return null;
      for (const item of page.items) {
        const offset = this.nextOffset++;
        if (offset < this.options.fromOffset) continue; // already processed before the checkpoint
        if (this.accept(item)) this.buffer.push({ value: item, offset });
        else this.options.onError(new SteadfastError('SOURCE_PARSE_FAILED', `${this.name}: item at offset ${offset} is not valid: ${JSON.stringify(item)}`));
      }
      this.cursor = page.next;
      this.lastPage = page.next === undefined;
    }
    const taken = this.buffer.splice(0, max);
    return { values: taken.map((entry) => entry.value), offsets: taken.map((entry) => entry.offset) };
  }

  close(): void {
    this.abort.abort();
  }
}
