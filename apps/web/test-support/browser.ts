/**
 * Debian's chromium driven by playwright-core (no browser download): the flags keep it from
 * reaching for Google's hosts on a closed network. playwright gives every launch a fresh,
 * temporary profile (it refuses --user-data-dir), so runs stay independent.
 */
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export type { Browser, BrowserContext, Locator, Page };

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {
        /* test cleanup: the browser process is killed with the test run */
      });
    },
  };
}
