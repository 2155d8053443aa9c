import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newContext, screenshot, unlabelledInputs, useBrowser, watchProblems } from '../helpers/browser.js';
import type { CentralSite } from '../helpers/centralSite.js';
import { startConsoleCentral } from '../helpers/consoleCentral.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * The users page in Debian's chromium against a real central: the admin adds a guard whose
 * generated password is shown once and works, is told plainly about a taken username,
 * disables the guard (who can then no longer log in), and cannot disable themself.
 */
const tempDir = useTempDir('qrgate-console-users-');
const processes = useQrgateProcesses();
const launch = useBrowser();

async function logIn(browser: Browser, base: string, username: string, password: string): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState(), page.click('form[action="/login"] button')]);
  return page;
}


describe('the users page', () => {
  it('adds a guard with a password shown once that logs in, refuses a taken name, disables the guard, and creates and revokes an API token', async () => {
    // Provisioned in prepare(), before the central starts.
    let gate!: Awaited<ReturnType<CentralSite['addTerminal']>>;
    const central = await startConsoleCentral(tempDir(), {
      people: 1,
      async prepare(site) {
        gate = await site.addTerminal('gate');
      },
      users: { quantri: { role: 'admin' } },
    });
    processes.track(central.proc);
    const { base } = central;
    const browser = await launch();

    const page = await central.logIn(browser, 'quantri');
    const problems = watchProblems(page);
    await page.goto(`${base}/users`);
    expect(await page.textContent('h1')).toBe('Người dùng');
    expect(await unlabelledInputs(page)).toEqual([]);
    // No way to lock oneself out from here.
    expect(await page.locator('tr[data-user="quantri"] button').count()).toBe(0);

    await page.fill('#user-username', 'baove-cong');
    await page.selectOption('#user-role', 'guard');
    await page.fill('#user-checkpoints', gate.code);
    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('form.add-user button')]);
    expect(answer.headers()['cache-control']).toBe('no-store');
    const password = await page.inputValue('#new-password');
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(await page.locator('tr[data-user="baove-cong"] td').allTextContents()).toEqual(expect.arrayContaining(['baove-cong', 'bảo vệ', gate.code, 'Đang hoạt động']));
    await page.goto(`${base}/users`);
    expect(await page.content()).not.toContain(password);

    const guard = await logIn(browser, base, 'baove-cong', password);
    expect(guard.url()).toBe(`${base}/`);
    await guard.context().close();

    await page.fill('#user-username', 'baove-cong');
    await page.selectOption('#user-role', 'guard');
    await page.fill('#user-checkpoints', gate.code);
    await page.click('form.add-user button');
    expect(await page.textContent('form.add-user [role="alert"]')).toBe('Tên đăng nhập này đã có.');
    expect(await page.inputValue('#user-username')).toBe('baove-cong');

    await page.goto(`${base}/users`);
    await Promise.all([page.waitForURL(/\/users\?disabled=/), page.click('tr[data-user="baove-cong"] button')]);
    expect(await page.textContent('.notice')).toContain('baove-cong');
    expect(await page.locator('tr[data-user="baove-cong"] td').nth(4).textContent()).toBe('Đã khoá');
    const refused = await logIn(browser, base, 'baove-cong', password);
    expect(refused.url()).toContain('/login');
    await refused.context().close();

    // An API token: shown once, works at once, refused once revoked.
    await page.click('a[href="/tokens"]');
    await page.fill('#token-name', 'Báo cáo hằng ngày');
    await page.selectOption('#token-role', 'inspector');
    expect(await unlabelledInputs(page)).toEqual([]);
    await page.click('form.add-token button');
    const token = await page.inputValue('#new-token');
    const stats = () => fetch(`${base}/api/checkpoints/${gate.code}/stats`, { headers: { authorization: `Bearer ${token}` } });
    expect((await stats()).status).toBe(200);
    const row = page.locator('tr[data-token]', { hasText: 'Báo cáo hằng ngày' });
    expect(await row.locator('td').nth(1).textContent()).toBe('Báo cáo hằng ngày');
    expect(await row.locator('td').nth(2).textContent()).toBe('thanh tra (chỉ đọc)');
    await screenshot(page, 'tokens-vi-desk');
    await Promise.all([page.waitForURL(/\/tokens\?revoked=/), row.locator('button').click()]);
    expect(await page.content()).not.toContain(token);
    expect(await row.locator('td').nth(5).textContent()).toBe('Đã thu hồi');
    expect((await stats()).status).toBe(401);

    await page.goto(`${base}/users?lang=vi`);
    await screenshot(page, 'users-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'users-vi-phone');
    await page.goto(`${base}/users?lang=en`);
    await screenshot(page, 'users-en-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'users-en-desk');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
