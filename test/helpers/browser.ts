import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where the console tests write their screenshots, for a person to look at (gitignored). */
export const screenshotDir = join(process.cwd(), 'artifacts', 'screenshots');

export const viewports = {
  desk: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
} as const;

/**
 * Debian's chromium driven by playwright-core (browser downloads are blocked here): headless,
 * no sandbox (CI runs as root), no background networking, so a page can only reach the
 * central under test. One browser per test file; each test gets fresh contexts.
 */
export function useBrowser(): () => Promise<Browser> {
  let browser: Promise<Browser> | undefined;
  afterAll(async () => {
    await (await browser)?.close();
  });
  return () =>
    (browser ??= chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
    }));
}

/** Console errors and failed requests a page caused: a page with any is not done. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

export async function newContext(browser: Browser, options: { viewport?: keyof typeof viewports; locale?: string } = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: viewports[options.viewport ?? 'desk'], locale: options.locale ?? 'vi-VN' });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Inputs a person cannot tell apart: no <label> and no aria-label (every console input needs one). */
export async function unlabelledInputs(page: Page): Promise<string[]> {
  return page.$$eval('input:not([type="hidden"]), select, textarea', (inputs) =>
    inputs.filter((input) => (input as unknown as { labels: { length: number } | null }).labels?.length === 0 && !input.getAttribute('aria-label')).map((input) => input.outerHTML),
  );
}
