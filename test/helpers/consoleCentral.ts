import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { newContext, screenshot, unlabelledInputs, viewports } from './browser.js';
import { createCentralSite, type CentralSite, type CentralSiteOptions } from './centralSite.js';
import { addConsoleUser, logInForm, type ConsoleUser } from './consoleUsers.js';
import { freePort } from './freePort.js';
import type { QrgateProcess } from './qrgateProcess.js';

/** A console account to make before the central starts (`qrgate users add`). */
export interface ConsoleUserSpec {
  readonly role: 'admin' | 'manager' | 'guard' | 'inspector';
  readonly unit?: string;
  readonly checkpoints?: readonly string[];
}

export interface ConsoleCentralOptions extends CentralSiteOptions {
  /** Runs once the site is provisioned and before the central starts: members, stored scans, terminals, config. */
  readonly prepare?: (site: CentralSite) => Promise<void>;
  /**
   * Accounts by username, made through the CLI after `prepare` and before the central starts;
   * a function when an account needs what `prepare` made (a guard of a terminal's checkpoint).
   */
  readonly users?: Readonly<Record<string, ConsoleUserSpec>> | (() => Readonly<Record<string, ConsoleUserSpec>>);
}

/** A running `qrgate central` with its console accounts, for browser tests. */
export interface ConsoleCentral {
  readonly site: CentralSite;
  /** `http://127.0.0.1:PORT`, the console's address. */
  readonly base: string;
  readonly mqttPort: number;
  readonly proc: QrgateProcess;
  readonly users: Readonly<Record<string, ConsoleUser>>;
  /**
   * A fresh browser context at `viewport` (desk by default), logged in as `username` through
   * the login form, on `next` (default `/`).
   */
  logIn(browser: Browser, username: string, options?: { next?: string; viewport?: keyof typeof viewports }): Promise<Page>;
}

/**
 * Provisions a site in `dir` (createCentralSite, on a free MQTT port), runs `prepare`, makes
 * the accounts, and starts the central. The caller stops `proc` (useConsoleCentral does).
 */
export async function startConsoleCentral(dir: string, options: ConsoleCentralOptions = {}): Promise<ConsoleCentral> {
  const { users: specs = {}, prepare, ...siteOptions } = options;
  const site = await createCentralSite(dir, await freePort(), siteOptions);
  await prepare?.(site);
  const users: Record<string, ConsoleUser> = {};
  for (const [username, spec] of Object.entries(typeof specs === 'function' ? specs() : specs)) {
    users[username] = await addConsoleUser(site.centralConfig, username, spec.role, { ...(spec.unit ? { unit: spec.unit } : {}), ...(spec.checkpoints ? { checkpoints: spec.checkpoints } : {}) });
  }
  const started = await site.startCentral();
  const base = `http://127.0.0.1:${started.httpPort}`;
  return {
    site,
    base,
    mqttPort: started.mqttPort,
    proc: started.proc,
    users,
    async logIn(browser, username, { next = '/', viewport = 'desk' } = {}) {
      const user = users[username];
      if (!user) throw new Error(`no console account ${username} in this central's users`);
      const page = await (await newContext(browser, { viewport })).newPage();
      await logInForm(page, base, user, next);
      return page;
    },
  };
}

/**
 * One central for a whole test file (beforeAll), stopped and its folder removed after the
 * last test (afterAll), not after the first as useTempDir would. Read it inside tests.
 */
export function useConsoleCentral(prefix: string, options: ConsoleCentralOptions = {}): () => ConsoleCentral {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let central: ConsoleCentral | undefined;
  beforeAll(async () => {
    central = await startConsoleCentral(dir, options);
  }, 120_000);
  afterAll(async () => {
    central?.proc.kill('SIGKILL');
    await central?.proc.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!central) throw new Error('the console central is not started: read it inside a test');
    return central;
  };
}

/**
 * The four screenshots of a page (vi and en, desk and phone), each checked for unlabelled
 * inputs, leaving the page on `url` in Vietnamese at desk size.
 */
export async function screenshotsViEn(page: Page, url: string, name: string): Promise<void> {
  const at = (lang: string) => `${url}${url.includes('?') ? '&' : '?'}lang=${lang}`;
  await page.setViewportSize(viewports.desk);
  await page.goto(at('vi'));
  expect(await unlabelledInputs(page)).toEqual([]);
  await screenshot(page, `${name}-vi-desk`);
  await page.setViewportSize(viewports.phone);
  await screenshot(page, `${name}-vi-phone`);
  await page.goto(at('en'));
  await screenshot(page, `${name}-en-phone`);
  await page.setViewportSize(viewports.desk);
  await screenshot(page, `${name}-en-desk`);
  await page.goto(at('vi'));
}

/** The accounts most console tests need: an admin, the manager of unit xuong-may, and a manager of another unit. */
export const adminAndManagers: Readonly<Record<'quantri' | 'quanly' | 'donvikhac', ConsoleUserSpec>> = {
  quantri: { role: 'admin' },
  quanly: { role: 'manager', unit: 'xuong-may' },
  donvikhac: { role: 'manager', unit: 'don-vi-khac' },
};
