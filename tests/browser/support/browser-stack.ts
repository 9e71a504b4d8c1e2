import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, type TestBrowser } from '../../../apps/web/test-support/browser.js';
import { ensureWebBuilt } from '../../../apps/web/test-support/build.js';
import { startStack, type Stack } from './stack.js';

/** Where each run leaves its screenshots (gitignored). */
export const ARTIFACTS = new URL('../../artifacts/', import.meta.url).pathname;

/** One file's browser test environment: the built UI, the platform behind a gateway, and chromium; closed after the file. */
export function useBrowserStack(
  label: string,
  opts: { gateway?: () => Promise<Record<string, string>>; replicas?: number } = {},
): { readonly stack: Stack; readonly chrome: TestBrowser } {
  let stack: Stack | undefined;
  let chrome: TestBrowser | undefined;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureWebBuilt();
    stack = await startStack(label, { ...(opts.gateway ? { gateway: await opts.gateway() } : {}), ...(opts.replicas ? { replicas: opts.replicas } : {}) });
    chrome = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await chrome?.close();
    await stack?.stop();
  }, 60_000);
  return {
    get stack() {
      if (!stack) throw new Error('browser stack not started: use it inside a test');
      return stack;
    },
    get chrome() {
      if (!chrome) throw new Error('chromium not started: use it inside a test');
      return chrome;
    },
  };
}
