import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, pushSource, toArray } from '../../src/index.js';
import { serve } from '../../src/observability/server.js';
import { launchBrowser } from '../helpers/browser.js';

const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));

interface Order {
  id: number;
  amount: number;
  crash?: boolean;
}

// Debian's chromium when installed, else the one in @sparticuz/chromium (test/helpers/browser.ts).
describe('dashboard in a browser', () => {
  it('shows the supervision tree live, a crashed stage’s restart and a selected actor’s events, and takes a screenshot', { timeout: 60_000 }, async () => {
    const source = pushSource<Order>();
    let crashes = 0;
    const validate = defineStage({ name: 'validate', process: (o: Order) => ({ emit: [o] }) });
    const enrich = defineStage({ name: 'enrich', breaker: true, process: async (o: Order) => ({ emit: [{ ...o, amount: o.amount * 1.2 }] }) });
    const ledger = defineStage({
      name: 'ledger',
      onFailure: 'restart',
      initialState: () => ({ total: 0 }),
      process: (o: Order, s: { total: number }) => {
        if (o.crash === true) {
          crashes++;
          throw new Error('poison order');
        }
        return { state: { total: s.total + o.amount }, emit: [o] };
      },
    });
    const pipeline = createPipeline({
      name: 'orders',
      source,
      stages: [validate, enrich, ledger],
      sink: toArray(),
      supervision: { backoff: { minMs: 10, maxMs: 50, factor: 2, jitter: 0 } },
      onError: () => {},
      logLevel: 'silent',
    });
    const server = await serve({ pipelines: [pipeline], port: 0, updateMs: 100 });
    let browser: Browser | undefined;
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-dashboard-'));
    try {
      await pipeline.start();
      browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1200, height: 640 } });
      await page.goto(server.url);

      const restarts = page.locator('[data-pipeline="orders"] [data-stage="ledger"] [data-field="restarts"]');
      await expect.poll(() => restarts.textContent(), { timeout: 10_000 }).toBe('0');
      await expect.poll(() => page.textContent('#conn'), { timeout: 10_000 }).toBe('live');
      expect(await page.textContent('[data-stage="enrich"] [data-field="breaker"]')).toBe('closed');
      expect(await page.textContent('#system')).toBe('running');

      // Some traffic for the throughput sparkline, then a poison order that crashes the ledger stage.
      for (let round = 0; round < 8; round++) {
        for (let i = 0; i < 25; i++) await source.push({ id: round * 25 + i, amount: i });
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      await source.push({ id: -1, amount: 0, crash: true });
      await expect.poll(() => restarts.textContent(), { timeout: 10_000 }).toBe('1');
      expect(crashes).toBe(1);
      expect(await page.textContent('[data-pipeline="orders"] [data-node="supervisor"] [data-field="restarts"]')).toBe('1');
      await expect.poll(() => page.locator('#log [data-event="steadfast.supervisor.restarting"]').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.textContent('#log [data-event="steadfast.supervisor.restarting"]')).toMatch(/restarting ledger \(error\): .*poison order/);
      for (let i = 0; i < 25; i++) await source.push({ id: 1000 + i, amount: i });
      await expect.poll(() => page.textContent('[data-pipeline="orders"] [data-field="events"]'), { timeout: 10_000 }).toBe('226');

      // The rates of the last 10 s: what the source read and the sink received, and each stage instance's.
      const rateIn = async (selector: string) => Number((await page.textContent(selector))?.replaceAll(',', ''));
      expect(await rateIn('[data-pipeline="orders"] [data-field="read-rate"]')).toBeGreaterThan(0);
      expect(await rateIn('[data-pipeline="orders"] [data-field="done-rate"]')).toBeGreaterThan(0);
      expect(await rateIn('[data-pipeline="orders"] [data-stage="ledger"] [data-field="rate"]')).toBeGreaterThan(0);
      expect(await rateIn('[data-pipeline="orders"] [data-stage="sink"] [data-field="rate"]')).toBeGreaterThan(0);

      // Selecting an actor shows its latest inspection events: the restarted ledger crashed, then took input again.
      await page.click('[data-pipeline="orders"] [data-stage="ledger"]');
      expect(await page.textContent('#inspect-actor')).toBe('ledger (orders)');
      await expect.poll(() => page.locator('#inspect-log [data-inspect="event"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await page.textContent('#inspect-log')).toContain('received steadfast.stage.input');
      expect(await page.textContent('#inspect-log')).toContain('state busy');

      const shot = join(dir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = await readFile(shot);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      // `STEADFAST_UPDATE_DOCS=1 npx vitest run test/observability/dashboard` refreshes docs/dashboard.png.
      if (process.env.STEADFAST_UPDATE_DOCS === '1') await copyFile(shot, DOCS_SCREENSHOT);
    } finally {
      await browser?.close();
      await server.close();
      source.end();
      await pipeline.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
