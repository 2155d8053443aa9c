import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { qrgate } from './centralSite.js';

export interface ConsoleUser {
  readonly username: string;
  readonly password: string;
}

/** A console account made as an operator makes one (`qrgate users add`), with the password it shows once. */
export async function addConsoleUser(
  centralConfig: string,
  username: string,
  role: 'admin' | 'manager' | 'guard' | 'inspector',
  scope: { readonly unit?: string; readonly checkpoints?: readonly string[] } = {},
): Promise<ConsoleUser> {
  const out = JSON.parse(
    await qrgate([
      'users', 'add', '--central-config', centralConfig, '--username', username, '--role', role,
      ...(scope.unit ? ['--unit', scope.unit] : []),
      ...(scope.checkpoints ? ['--checkpoint', scope.checkpoints.join(',')] : []),
      '--json',
    ]),
  ) as { password: string };
  return { username, password: out.password };
}

/** Logs in through the console's form and lands on `next`; a refused login fails with the page's own message. */
export async function logInForm(page: Page, base: string, user: ConsoleUser, next = '/'): Promise<void> {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
  expect(page.url(), `${user.username}: ${await page.locator('[role="alert"]').allTextContents()}`).toBe(`${base}${next}`);
}
