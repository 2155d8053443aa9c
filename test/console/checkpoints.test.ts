import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import jsQRModule from 'jsqr';
import { parseEnrollmentQr } from '../../protocol/enrollment.js';
import { decodePng } from '../helpers/png.js';
import { centralDbFileName, loadCentralConfig } from '../../broker/config.js';
import { SqliteCentralStore } from '../../broker/store/sqliteStore.js';
import { scanEvent } from '../broker/store/scanEvents.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { logInForm } from '../helpers/consoleUsers.js';
import { adminAndManagers, useConsoleCentral } from '../helpers/consoleCentral.js';
import { newContext, screenshot, unlabelledInputs, useBrowser, watchProblems } from '../helpers/browser.js';
import { pdfTextLines } from '../helpers/pdfText.js';

/** The checkpoints pages in Debian's chromium against a real central. */
const launch = useBrowser();

const jsQR = jsQRModule.default;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The site's own checkpoint, with scans stored before the central started. */
let mainCode = '';

const central = useConsoleCentral('qrgate-console-checkpoints-', {
  people: 1,
  users: adminAndManagers,
  // Scans as terminals would have sent them, minutes to weeks old, so the counts and charts have something to show.
  async prepare(site) {
    const store = new SqliteCentralStore({ file: join(loadCentralConfig(site.centralConfig).dataDir, centralDbFileName), logger: silentLogger() });
    await store.migrate();
    mainCode = (await store.listCheckpoints())[0]!.code;
    const now = Date.now();
    const ages = [
      [10 * MINUTE, 'granted'],
      [11 * MINUTE, 'granted'],
      [12 * MINUTE, 'refused'],
      [3 * HOUR, 'granted'],
      [3 * DAY, 'duplicate'],
      [20 * DAY, 'granted'],
    ] as const;
    await store.insertEvents(
      ages.map(([age, decision], i) => scanEvent({ terminalId: 'tm-cong-chinh', checkpointCode: mainCode, seq: i + 1, tsMs: now - age, decision })),
      now,
    );
    await store.close();
  },
});

async function logIn(page: Page, username: string): Promise<void> {
  await logInForm(page, central().base, central().users[username]!, '/checkpoints');
}

const name = 'Cổng phụ — Xưởng may';

describe('the checkpoints pages', () => {
  it('an admin creates a checkpoint, reads its code, counts and charts, and downloads its sign', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logIn(page, 'quantri');
    expect(await page.locator(`tr[data-checkpoint="${mainCode}"] td`).first().textContent()).toBe('Cổng chính');

    await page.click('details summary');
    expect((await unlabelledInputs(page)).length).toBe(0);
    await page.fill('#new-name', name);
    await page.selectOption('#new-direction', 'in');
    await page.selectOption('#new-confirm', 'manual');
    await page.fill('#new-unit', 'Xưởng may');
    await Promise.all([page.waitForURL(/\/checkpoints\/\d{14}\?done=created$/), page.click('form[action="/checkpoints"] button')]);
    const code = /\/checkpoints\/(\d{14})/.exec(page.url())![1]!;
    expect(await page.textContent('h1')).toBe(name);
    expect(await page.textContent('[data-code]')).toBe(code);
    expect(await page.textContent('.checkpoint-head')).toContain('Bảo vệ xác nhận');
    // A new checkpoint: four zeros, a bar per hour and per day, all empty.
    expect(await page.locator('.counts dd').allTextContents()).toEqual(['0', '0', '0', '0']);
    expect(await page.locator('#per-hour rect.bar').count()).toBe(24);
    expect(await page.locator('#per-day rect.bar').count()).toBe(30);
    expect((await unlabelledInputs(page)).length).toBe(0);

    // The sign: its text, as a printer gets it, carries the name with its diacritics.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`a[href="/checkpoints/${code}/sign.pdf"]`)]);
    const signFile = join(central().site.dir, 'sign.pdf');
    await download.saveAs(signFile);
    expect(pdfTextLines(signFile)).toEqual(expect.arrayContaining([name, code, 'Xưởng may']));

    // Listed with its code, and renamed from its page.
    await page.goto(`${central().base}/checkpoints`);
    expect(await page.textContent(`tr[data-checkpoint="${code}"] td.code`)).toBe(code);
    await page.goto(`${central().base}/checkpoints/${code}`);
    await page.fill('#edit-name', `${name} (Cổng 2)`);
    await Promise.all([page.waitForURL(`${central().base}/checkpoints/${code}?done=saved`), page.click(`form[action="/checkpoints/${code}"] button`)]);
    expect(await page.textContent('h1')).toBe(`${name} (Cổng 2)`);

    // The site's checkpoint, with the scans stored before start: the inspector's counts by decision, and the charts.
    await page.goto(`${central().base}/checkpoints/${mainCode}`);
    expect(await page.locator('.counts dd').allTextContents()).toEqual(['3', '4', '5', '6']);
    expect(await page.locator('tr[data-decision="granted"] td').allTextContents()).toEqual(['2', '3', '3', '4']);
    expect(await page.locator('tr[data-decision="refused"] td').allTextContents()).toEqual(['1', '1', '1', '1']);
    expect(await page.locator('tr[data-decision="duplicate"] td').allTextContents()).toEqual(['0', '0', '1', '1']);
    const sum = async (chart: string) => (await page.locator(`${chart} rect.bar`).evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('data-value'))))).reduce((a, b) => a + b, 0);
    expect(await sum('#per-hour')).toBe(4);
    expect(await sum('#per-day')).toBe(6);
    expect(await page.getAttribute('#per-day svg', 'aria-labelledby')).toBe('per-day-title per-day-desc');
    await screenshot(page, 'checkpoint-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'checkpoint-vi-phone');
    await page.goto(`${central().base}/checkpoints/${mainCode}?lang=en`);
    expect(await page.textContent('#charts-title')).toBe('Scans over time');
    await screenshot(page, 'checkpoint-en-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'checkpoint-en-desk');
    await page.goto(`${central().base}/checkpoints`);
    await screenshot(page, 'checkpoints-en-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'checkpoints-en-phone');
    await page.goto(`${central().base}/checkpoints?lang=vi`);
    await screenshot(page, 'checkpoints-vi-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'checkpoints-vi-desk');

    // A technician's enrollment QR: a typo in the address is caught on the field; then the image, with the name and expiry under it.
    await page.goto(`${central().base}/checkpoints/${mainCode}`);
    const url = await page.inputValue('#enroll-url');
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    await page.fill('#enroll-url', 'http://127.0.0.1');
    await page.click('form[data-enroll] button');
    expect(await page.textContent('#enroll-problem')).toBe('Địa chỉ phải có dạng mqtt://máy:cổng hoặc mqtts://máy:cổng.');
    await page.fill('#enroll-url', url);
    await page.fill('#enroll-minutes', '30');
    const before = Date.now();
    await page.click('form[data-enroll] button');
    await page.waitForSelector('img[data-enroll-qr]');
    expect(await page.textContent('.enroll-qr figcaption')).toContain('Cổng chính');
    expect(await page.textContent('[data-expires]')).toMatch(/^Hết hạn lúc /);
    const src = (await page.getAttribute('img[data-enroll-qr]', 'src'))!;
    const { width, height, rgba } = decodePng(Buffer.from(src.replace(/^data:image\/png;base64,/, ''), 'base64'));
    const parsed = parseEnrollmentQr(jsQR(rgba, width, height)!.data);
    expect(parsed.ok && parsed.qr.body).toMatchObject({ checkpoint: mainCode, url });
    const expiresAtS = parsed.ok ? parsed.qr.body.expiresAt : 0;
    expect(expiresAtS * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 30 * MINUTE);
    await screenshot(page, 'checkpoint-enroll-vi-desk');

    // Retired from its page: kept in the list, marked, its counts still readable.
    await page.goto(`${central().base}/checkpoints/${code}`);
    await Promise.all([page.waitForURL(`${central().base}/checkpoints/${code}?done=retired`), page.click(`form[action="/checkpoints/${code}/retire"] button`)]);
    expect(await page.locator(`form[action="/checkpoints/${code}"]`).count()).toBe(0);
    await page.goto(`${central().base}/checkpoints`);
    expect(await page.getAttribute(`tr[data-checkpoint="${code}"]`, 'class')).toBe('retired');

    expect(problems).toEqual([]);
    await context.close();
  });

  it('a manager of another unit sees no rows and gets a refusal page on a checkpoint address', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    await logIn(page, 'donvikhac');
    expect(await page.locator('tr[data-checkpoint]').count()).toBe(0);
    const refused = await page.goto(`${central().base}/checkpoints/${mainCode}`);
    expect(refused?.status()).toBe(403);
    expect(await page.textContent('.error')).toBe('Bạn không có quyền xem trang này.');
    expect(await page.content()).not.toContain('Cổng chính');
    const sign = await page.goto(`${central().base}/checkpoints/${mainCode}/sign.pdf`);
    expect(sign?.status()).toBe(403);
    await context.close();
  });

  it("a unit's manager creates a checkpoint in its own unit only, and sees only its unit's", async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logIn(page, 'quanly');
    await page.click('details summary');
    expect(await page.locator('#new-unit').count()).toBe(0);
    expect(await page.textContent('form[action="/checkpoints"] .hint')).toBe('Thuộc đơn vị: xuong-may');
    await page.fill('#new-name', 'Cổng kho vải');
    await Promise.all([page.waitForURL(/\/checkpoints\/\d{14}\?done=created$/), page.click('form[action="/checkpoints"] button')]);
    expect(await page.textContent('.checkpoint-head')).toContain('xuong-may');
    await page.goto(`${central().base}/checkpoints`);
    expect(await page.locator('tr[data-checkpoint] td:first-child').allTextContents()).toEqual(['Cổng kho vải']);
    // The site's checkpoint has no unit: not this manager's to see.
    expect((await page.goto(`${central().base}/checkpoints/${mainCode}`))?.status()).toBe(403);
    expect(problems.filter((p) => !p.includes('403'))).toEqual([]);
    await context.close();
  });
});
