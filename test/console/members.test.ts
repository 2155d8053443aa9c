import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { cardIdFromNumber } from '../../broker/registry/cards.js';
import { logInForm } from '../helpers/consoleUsers.js';
import { adminAndManagers, useConsoleCentral } from '../helpers/consoleCentral.js';
import { newContext, screenshot, unlabelledInputs, useBrowser, watchProblems } from '../helpers/browser.js';

/** The members page in Debian's chromium against a real central: a unit manager's day. */
const central = useConsoleCentral('qrgate-console-members-', { people: 1, users: adminAndManagers });
const launch = useBrowser();

async function logIn(page: Page, username: string): Promise<void> {
  await logInForm(page, central().base, central().users[username]!, '/members');
}

const idNumber = '046095000001';

describe('the members page', () => {
  it('a manager registers a person, finds them by name and by ID number, issues and reissues a card, changes the status and removes them', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    const visited: string[] = [];
    page.on('request', (request) => visited.push(request.url()));
    await logIn(page, 'quanly');
    await screenshot(page, 'members-vi-desk');
    await page.click('a[href="/members/new"]');
    expect(await unlabelledInputs(page)).toEqual([]);

    // A number that lost its leading zero in a spreadsheet: refused on the field, in Vietnamese, the rest kept.
    await page.fill('#member-name', 'Nguyễn Thị Ánh');
    await page.fill('#member-idNumber', idNumber.slice(1));
    await page.fill('#member-phone', '0905 123 456');
    await page.fill('#member-address', 'Phường Phú Hội, TP Huế');
    await page.fill('#member-scope', 'default');
    await page.click('form[action="/members/new"] button');
    expect(await page.textContent('#member-idNumber-problem')).toBe('Số CCCD gồm 12 chữ số; hãy kiểm tra lại.');
    expect(await page.inputValue('#member-name')).toBe('Nguyễn Thị Ánh');
    await screenshot(page, 'members-new-problem-vi-desk');

    await page.fill('#member-idNumber', idNumber);
    await Promise.all([page.waitForURL(/\/members\/[0-9a-f]+$/), page.click('form[action="/members/new"] button')]);
    const memberUrl = page.url();
    expect(await page.textContent('h1')).toBe('Nguyễn Thị Ánh');
    expect(await page.textContent('.facts')).toContain('*********001');
    expect(await page.textContent('.facts')).toContain('xuong-may');

    await page.goto(`${central().base}/members?q=nguyen+thi+anh`);
    expect(await page.locator('tr[data-member] td').first().textContent()).toBe('Nguyễn Thị Ánh');
    expect(await page.locator('tr[data-member] td').nth(4).textContent()).toBe('Được phép');

    await page.fill('#idNumber', idNumber);
    await Promise.all([page.waitForURL(memberUrl), page.click('form[action="/members/find"] button')]);

    await Promise.all([page.waitForURL(`${memberUrl}?done=card`), page.click('form[action$="/card"] button')]);
    const first = (await page.textContent('[data-card]'))!.trim();
    // The printed number, as a guard reads it off a card to report it lost.
    expect(cardIdFromNumber(first)).toBeTruthy();
    await Promise.all([page.waitForURL(`${memberUrl}?done=card`), page.click('form[action$="/card"] button')]);
    const second = (await page.textContent('[data-card]'))!.trim();
    expect(second).not.toBe(first);
    await screenshot(page, 'member-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'member-vi-phone');

    await page.selectOption('#member-status', 'deny');
    await Promise.all([page.waitForURL(`${memberUrl}?done=status`), page.click('form[action$="/status"] button')]);
    // A status, not the gate's verdict ("Cho qua" is the guard's Confirm button).
    expect(await page.textContent('[data-status]')).toBe('Bị chặn');

    await page.goto(`${memberUrl}?lang=en`);
    expect(await page.textContent('[data-status]')).toBe('Barred');
    await screenshot(page, 'member-en-phone');

    await page.check('form[action$="/remove"] input[name="confirm"]');
    await Promise.all([page.waitForURL(`${central().base}/members`), page.click('form[action$="/remove"] button')]);
    expect(await page.locator('tr[data-member]').count()).toBe(0);
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'members-en-desk');

    // The ID number travelled only in form bodies, never in an address.
    expect(visited.filter((url) => url.includes(idNumber) || url.includes(idNumber.slice(1)))).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a manager of another unit sees none of them and gets a refusal page on a member address', async () => {
    const browser = await launch();
    const own = await newContext(browser);
    const page = await own.newPage();
    await logIn(page, 'quanly');
    await page.click('a[href="/members/new"]');
    await page.fill('#member-name', 'Trần Văn Bình');
    await page.fill('#member-idNumber', '046095000002');
    await page.fill('#member-phone', '0905000002');
    await page.fill('#member-scope', 'default');
    await Promise.all([page.waitForURL(/\/members\/[0-9a-f]+$/), page.click('form[action="/members/new"] button')]);
    const memberUrl = page.url();
    await own.close();

    const other = await newContext(browser);
    const stranger = await other.newPage();
    await logIn(stranger, 'donvikhac');
    expect(await stranger.locator('tr[data-member]').count()).toBe(0);
    const refused = await stranger.goto(memberUrl);
    expect(refused?.status()).toBe(403);
    expect(await stranger.textContent('.error')).toBe('Bạn không có quyền xem trang này.');
    expect(await stranger.content()).not.toContain('Trần Văn Bình');
    await other.close();
  });
});
