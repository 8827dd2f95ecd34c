import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSTEM_CHROMIUM, chooseBrowser } from '../helpers/browser.js';

// The one launch helper of the browser tests: which Chromium it picks, by machine and by STEADFAST_TEST_CHROMIUM.
describe('the browser test helper', () => {
  it('takes the Chromium of @sparticuz/chromium with STEADFAST_TEST_CHROMIUM=bundled, with its own flags', async () => {
    const choice = await chooseBrowser({ STEADFAST_TEST_CHROMIUM: 'bundled' });
    expect(choice.kind).toBe('bundled');
    expect(choice.executablePath).not.toBe(SYSTEM_CHROMIUM);
    expect(existsSync(choice.executablePath)).toBe(true);
    expect(choice.args).toContain('--no-sandbox');
  });

  it('takes /usr/bin/chromium by default when it is installed, with the flags Debian’s build needs, else the bundled one', async () => {
    const choice = await chooseBrowser({});
    if (existsSync(SYSTEM_CHROMIUM)) {
      expect(choice).toEqual({
        kind: 'system',
        executablePath: SYSTEM_CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      });
    } else {
      expect(choice.kind).toBe('bundled');
      await expect(chooseBrowser({ STEADFAST_TEST_CHROMIUM: 'system' })).rejects.toThrow(`STEADFAST_TEST_CHROMIUM=system but ${SYSTEM_CHROMIUM} is missing`);
    }
  });

  it('refuses a value it does not know', async () => {
    await expect(chooseBrowser({ STEADFAST_TEST_CHROMIUM: 'firefox' })).rejects.toThrow('STEADFAST_TEST_CHROMIUM must be auto, system or bundled, got "firefox"');
  });
});
