import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newContext, screenshot, unlabelledInputs, useBrowser, watchProblems } from '../helpers/browser.js';
import { addConsoleUser } from '../helpers/consoleUsers.js';
import { createCentralSite, type CentralSite } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { pollDeadline } from '../helpers/pollDeadline.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The console in a real browser (Debian's chromium) against a real `qrgate central` and a
 * real terminal process: what a person sees, in both languages, on a desk and on a phone.
 */
const tempDir = useTempDir('qrgate-console-');
const launch = useBrowser();

interface World {
  site: CentralSite;
  base: string;
  code: string;
  users: Record<'admin' | 'inspector' | 'stranger', { username: string; password: string }>;
}


/** One central for the whole file, with a terminal that has decided three scans (two granted, one refused). */
let world: World;
const running: QrgateProcess[] = [];
beforeAll(async () => {
  world = await (async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, await freePort(), { people: 3 });
    const terminal = await site.addTerminal('gate');
    const users = {
      admin: await addConsoleUser(site.centralConfig, 'quantri', 'admin'),
      inspector: await addConsoleUser(site.centralConfig, 'thanhtra', 'inspector'),
      stranger: await addConsoleUser(site.centralConfig, 'donvikhac', 'manager', { unit: 'don-vi-khac' }),
    };
    const central = await site.startCentral();
    running.push(central.proc);
    const gate = new QrgateProcess(['terminal', '--config', terminal.config], { stdin: 'pipe' });
    running.push(gate);
    await gate.waitForLine((l) => l.msg === 'uplink.connected');
    for (const id of [site.people[0], site.people[1], '046099999999']) gate.stdin.write(`${id}\n`);
    const base = `http://127.0.0.1:${central.httpPort}`;
    const stored = async () => ((await (await fetch(`${base}/api/public/checkpoints/${terminal.code}/stats`)).json()) as { lastHour: number }).lastHour;
    await waitFor(async () => (await stored()) === 3, 30_000, 'the three scans stored at the central');
    return { site, base, code: terminal.code, users };
  })();
}, 120_000);
afterAll(async () => {
  for (const proc of running) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
});
const site = async (): Promise<World> => world;

async function logIn(page: Page, base: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${base}/login`);
  // Keyboard only: the username field takes the focus by itself (autofocus), Tab reaches the
  // password, Enter submits. Typing before the focus lands would lose the first letters.
  await page.locator('#username:focus').waitFor();
  await page.keyboard.type(user.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(user.password);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  // A refused login stays on the form: say why instead of timing out.
  expect(page.url(), `${user.username}: ${await page.locator('[role="alert"]').allTextContents()}`).toBe(`${base}/`);
}


async function inlineScripts(page: Page): Promise<number> {
  return page.$$eval('script', (scripts) => scripts.filter((s) => !s.getAttribute('src')).length);
}

describe('the operator console', () => {
  it('logs in from the keyboard alone and lands on the overview, in Vietnamese, with the checkpoint counts and the terminal online', async () => {
    const { base, code, users } = await site();
    const browser = await launch();
    for (const viewport of ['desk', 'phone'] as const) {
      const context = await newContext(browser, { viewport });
      const page = await context.newPage();
      const problems = watchProblems(page);
      const login = await page.goto(`${base}/`);
      expect(page.url()).toBe(`${base}/login?next=%2F`);
      expect(login?.headers()['content-security-policy']).toContain("script-src 'self'");
      expect(await page.textContent('h1')).toBe('Đăng nhập');
      expect(await unlabelledInputs(page)).toEqual([]);
      await screenshot(page, `login-vi-${viewport}`);
      await logIn(page, base, users.admin);
      expect(await page.textContent('h1')).toBe('Tổng quan');
      const row = page.locator(`tr[data-checkpoint="${code}"]`);
      await expect.poll(() => row.locator('td').allTextContents(), pollDeadline).toEqual([code, 'Cổng chính', '2', '1', '0', '3']);
      expect(await page.locator('tr[data-terminal] td').nth(2).textContent()).toBe('Trực tuyến');
      expect(await inlineScripts(page)).toBe(0);
      await screenshot(page, `overview-vi-${viewport}`);
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it('switches to English on ?lang=en and remembers it; a browser asking for English gets English first', async () => {
    const { base, users } = await site();
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    await logIn(page, base, users.admin);
    await Promise.all([page.waitForURL(`${base}/?lang=en`), page.click('a.lang')]);
    expect(await page.textContent('h1')).toBe('Overview');
    await page.goto(`${base}/`);
    expect(await page.textContent('h1')).toBe('Overview');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    for (const viewport of ['desk', 'phone'] as const) {
      await page.setViewportSize(viewport === 'desk' ? { width: 1366, height: 768 } : { width: 390, height: 844 });
      await screenshot(page, `overview-en-${viewport}`);
    }
    await context.close();

    const english = await newContext(browser, { locale: 'en-US' });
    const fresh = await english.newPage();
    await fresh.goto(`${base}/login`);
    expect(await fresh.textContent('h1')).toBe('Log in');
    await screenshot(fresh, 'login-en-desk');
    await english.close();
  });

  it('refuses a wrong password on the page, keeping the username, and logs out', async () => {
    const { base, users } = await site();
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#username', users.admin.username);
    await page.fill('#password', 'not the password');
    await page.click('button[type="submit"]');
    expect(await page.textContent('[role="alert"]')).toBe('Sai tên đăng nhập hoặc mật khẩu.');
    expect(await page.inputValue('#username')).toBe(users.admin.username);
    await logIn(page, base, users.admin);
    await Promise.all([page.waitForURL(`${base}/login`), page.click('form[action="/logout"] button')]);
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/login?next=%2F`);
    await context.close();
  });

  it('public check: a mistyped code is caught before sending; the right code shows the four counts, on a phone, without login', async () => {
    const { base, code } = await site();
    const browser = await launch();
    for (const lang of ['vi', 'en'] as const) {
      const context = await newContext(browser, { viewport: 'phone', locale: lang === 'vi' ? 'vi-VN' : 'en-US' });
      const page = await context.newPage();
      const problems = watchProblems(page);
      await page.goto(`${base}/check`);
      expect(await unlabelledInputs(page)).toEqual([]);
      // Two different neighbours swapped (the code is random: the first such pair): the check
      // digit catches it in the browser, nothing is sent.
      const at = [...code].findIndex((digit, i) => i + 1 < code.length && digit !== code[i + 1]);
      const swapped = `${code.slice(0, at)}${code[at + 1]}${code[at]}${code.slice(at + 2)}`;
      expect(swapped).not.toBe(code);
      await page.fill('input[name="code"]', swapped);
      await page.press('input[name="code"]', 'Enter');
      expect(await page.textContent('[data-code-problem]')).toBe(
        lang === 'vi' ? 'Mã không đúng: có một chữ số gõ nhầm hoặc hai chữ số bị đảo chỗ.' : 'This code is wrong: a digit is mistyped or two digits are swapped.',
      );
      expect(page.url()).toBe(`${base}/check`);
      await page.fill('input[name="code"]', code);
      await Promise.all([page.waitForURL(`${base}/check?code=${code}`), page.press('input[name="code"]', 'Enter')]);
      const counts = await page.$$eval('dd[data-window]', (dds) => Object.fromEntries(dds.map((dd) => [dd.getAttribute('data-window'), dd.textContent])));
      expect(counts).toEqual({ lastHour: '3', lastDay: '3', lastWeek: '3', lastMonth: '3' });
      expect(await page.textContent('h2')).toBe(lang === 'vi' ? 'Số lượt quét tại Cổng chính' : 'Scans at Cổng chính');
      await screenshot(page, `check-${lang}-phone`);
      await page.setViewportSize({ width: 1366, height: 768 });
      await screenshot(page, `check-${lang}-desk`);
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it('shows an inspector counts without the fleet, and a manager of another unit none of it', async () => {
    const { base, code, users } = await site();
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    await logIn(page, base, users.inspector);
    expect(await page.locator(`tr[data-checkpoint="${code}"]`).count()).toBe(1);
    expect(await page.locator('tr[data-terminal]').count()).toBe(0);
    await context.close();

    const other = await newContext(browser);
    const stranger = await other.newPage();
    await logIn(stranger, base, users.stranger);
    expect(await stranger.locator('tr[data-checkpoint]').count()).toBe(0);
    expect(await stranger.locator('tr[data-terminal]').count()).toBe(0);
    expect(await stranger.content()).not.toContain('Cổng chính');
    await other.close();
  });
});

