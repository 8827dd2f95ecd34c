import { existsSync } from 'node:fs';
import bundled from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, used when installed (unless STEADFAST_TEST_CHROMIUM=bundled). */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** The flags Debian's chromium needs to run headless in a container or CI runner. */
const SYSTEM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Which Chromium a browser test launches and with which flags. */
export interface BrowserChoice {
  kind: 'system' | 'bundled';
  executablePath: string;
  args: string[];
}

/**
 * Picks the browser: /usr/bin/chromium when present, else the binary shipped in the npm package
 * `@sparticuz/chromium` (so `npm ci && npm test` needs no system package). STEADFAST_TEST_CHROMIUM=bundled
 * forces the npm binary, STEADFAST_TEST_CHROMIUM=system the Debian one.
 */
export async function chooseBrowser(env: NodeJS.ProcessEnv = process.env): Promise<BrowserChoice> {
  const wanted = env.STEADFAST_TEST_CHROMIUM ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'system' && wanted !== 'bundled') {
    throw new Error(`STEADFAST_TEST_CHROMIUM must be auto, system or bundled, got ${JSON.stringify(wanted)}`);
  }
  if (wanted === 'system' || (wanted === 'auto' && existsSync(SYSTEM_CHROMIUM))) {
    if (!existsSync(SYSTEM_CHROMIUM)) throw new Error(`STEADFAST_TEST_CHROMIUM=system but ${SYSTEM_CHROMIUM} is missing`);
    return { kind: 'system', executablePath: SYSTEM_CHROMIUM, args: SYSTEM_ARGS };
  }
  return { kind: 'bundled', executablePath: await bundled.executablePath(), args: bundled.args };
}

/** Launches headless Chromium through playwright-core: the one launch every browser test uses. */
export async function launchBrowser(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const choice = await chooseBrowser(env);
  return chromium.launch({ executablePath: choice.executablePath, args: choice.args, headless: true });
}
