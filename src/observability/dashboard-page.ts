import { readFile } from 'node:fs/promises';

/**
 * Where the dashboard (one static HTML file, served as is) may be: beside this module when run from
 * the sources, or in the package's `src/observability/` when run from the build in `dist/`.
 */
const CANDIDATES = [new URL('./dashboard.html', import.meta.url), new URL('../../../src/observability/dashboard.html', import.meta.url)];

let page: Promise<string> | undefined;

/** The dashboard's HTML, read once. */
export function dashboardPage(): Promise<string> {
  page ??= (async () => {
    let lastError: unknown;
    for (const url of CANDIDATES) {
      try {
        return await readFile(url, 'utf8');
      } catch (error) {
        lastError = error;
      }
    }
    page = undefined; // try again on the next request
    throw lastError;
  })();
  return page;
}
