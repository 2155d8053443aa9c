import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { groupCardNumber } from '../../protocol/credentials/card.js';
import { logInForm } from '../helpers/consoleUsers.js';
import { adminAndManagers, useConsoleCentral } from '../helpers/consoleCentral.js';
import { newContext, screenshot, unlabelledInputs, useBrowser, watchProblems } from '../helpers/browser.js';
import { qrgate } from '../helpers/centralSite.js';
import { exifMarkers, photoWithGps } from '../helpers/photos.js';

/**
 * The members page's other jobs in Debian's chromium against a real central: reporting a lost
 * card by its printed number, importing a members file after a preview of its bad lines, and a
 * member's photo.
 */
const an = { name: 'Nguyễn Văn An', idNumber: '046095100001' };
let anCardId = '';

const central = useConsoleCentral('qrgate-console-members-more-', {
  people: 1,
  users: adminAndManagers,
  async prepare(site) {
    const file = join(site.dir, 'seed.csv');
    writeFileSync(file, `name,phone,address,unit,scope,idNumber,status\n${an.name},0905100001,Phường Phú Hội,xuong-may,default,${an.idNumber},allow\n`);
    await qrgate(['members', 'import', '--central-config', site.centralConfig, file]);
    anCardId = (JSON.parse(await qrgate(['cards', 'issue', '--central-config', site.centralConfig, '--id-number', an.idNumber, '--json'])) as { cardId: string }).cardId;
  },
});
const launch = useBrowser();

async function logIn(page: Page, username: string, next = '/members'): Promise<void> {
  await logInForm(page, central().base, central().users[username]!, next);
}

/** The same id with one character changed, as a hurried hand types it. */
function mistyped(cardId: string): string {
  const last = cardId.at(-1)!;
  return `${cardId.slice(0, -1)}${last === 'Z' ? 'Y' : 'Z'}`;
}

describe('reporting a lost card', () => {
  it('a manager types the printed number, sees whose card it is, revokes it and publishes the list; a mistyped number is refused clearly', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    const visited: string[] = [];
    page.on('request', (request) => visited.push(request.url()));
    await logIn(page, 'quanly');
    await Promise.all([page.waitForURL(`${central().base}/members/lost-card`), page.click('a[href="/members/lost-card"]')]);
    expect(await unlabelledInputs(page)).toEqual([]);

    await page.fill('#card-number', '1234');
    await page.click('form[action="/members/lost-card"] button');
    expect(await page.textContent('#card-number-problem')).toBe('Số thẻ không đúng: có ký tự gõ sai hoặc thiếu. Hãy so lại từng ký tự với thẻ.');
    await page.fill('#card-number', groupCardNumber(mistyped(anCardId)));
    await page.click('form[action="/members/lost-card"] button');
    expect(await page.textContent('#card-number-problem')).toBe('Không có thẻ nào mang số này. Hãy so lại từng ký tự với thẻ.');
    await screenshot(page, 'lost-card-problem-vi-desk');

    // Typed as read off the card: lower case, no spaces.
    await page.fill('#card-number', anCardId.toLowerCase());
    await page.click('form[action="/members/lost-card"] button');
    expect(await page.textContent('[data-holder]')).toBe(an.name);
    expect(await page.textContent('.facts')).toContain('*********001');
    await screenshot(page, 'lost-card-confirm-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'lost-card-confirm-vi-phone');

    await page.click('form[action="/members/lost-card"] button.danger');
    expect(await page.textContent('[data-revoked]')).toBe(`Đã thu hồi thẻ đuôi ${anCardId.slice(-4)} của ${an.name}.`);
    expect(await page.textContent('main')).toContain('Các cổng chỉ biết khi danh sách phạm vi default được phát hành lần kế tiếp');
    await screenshot(page, 'lost-card-revoked-vi-phone');
    // "Publish now" from the same page: the next list goes out.
    await Promise.all([page.waitForURL(/\/lists\?published=/), page.click('form[action="/lists/default/publish"] button')]);
    expect(await page.textContent('.notice')).toContain('default v1');

    // The registry refuses it at once: the member has no live card, and a second report says when it was revoked.
    await page.goto(`${central().base}/members?q=${encodeURIComponent(an.name)}`);
    expect(await page.locator('tr[data-member] td').nth(5).textContent()).toBe('—');
    await page.goto(`${central().base}/members/lost-card?lang=en`);
    await page.fill('#card-number', groupCardNumber(anCardId));
    await page.click('form[action="/members/lost-card"] button');
    expect(await page.textContent('#card-number-problem')).toMatch(/^This card was already revoked at .+\.$/);
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'lost-card-problem-en-desk');

    // The number travelled only in form bodies.
    expect(visited.filter((url) => url.toUpperCase().includes(anCardId))).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();

    const admin = await (await newContext(browser)).newPage();
    await logIn(admin, 'quantri', '/audit?action=card.revoke');
    expect(await admin.locator('tr[data-action="card.revoke"]').count()).toBe(1);
    expect(await admin.textContent('tr[data-action="card.revoke"]')).toContain(anCardId.slice(-4));
    await admin.context().close();
  });

  it('a manager of another unit learns only that the card is not theirs', async () => {
    const cardId = (JSON.parse(await qrgate(['cards', 'issue', '--central-config', central().site.centralConfig, '--id-number', an.idNumber, '--json'])) as { cardId: string }).cardId;
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    await logIn(page, 'donvikhac', '/members/lost-card');
    await page.fill('#card-number', groupCardNumber(cardId));
    await page.click('form[action="/members/lost-card"] button');
    expect(await page.textContent('#card-number-problem')).toBe('Thẻ này thuộc một thành viên của đơn vị khác; hãy báo quản lý đơn vị đó hoặc quản trị viên.');
    expect(await page.content()).not.toContain(an.name);
    // Even a hand-made confirmation is refused, and the card stays live.
    const forged = await page.request.post(`${central().base}/members/lost-card`, {
      form: { number: cardId, confirm: 'yes', _csrf: await page.inputValue('input[name="_csrf"]') },
    });
    expect(await forged.text()).toContain('Thẻ này thuộc một thành viên của đơn vị khác');
    expect(await forged.text()).not.toContain(an.name);
    const cards = JSON.parse(await qrgate(['cards', 'list', '--central-config', central().site.centralConfig, '--json'])) as { cards: { cardNumber: string; revokedAt: string | null }[] };
    expect(cards.cards.find((card) => card.cardNumber === groupCardNumber(cardId))?.revokedAt).toBeNull();
    await context.close();
  });
});

const header = 'name,phone,address,unit,scope,idNumber,status';
const csvFile = (name: string, text: string | Buffer) => ({ name, mimeType: 'text/csv', buffer: Buffer.isBuffer(text) ? text : Buffer.from(text) });

async function checkFile(page: Page, file: ReturnType<typeof csvFile>): Promise<void> {
  await page.setInputFiles('#import-file', file);
  await page.click('#import-form button[type="submit"]');
  await page.waitForSelector('#import-result [data-summary]', { timeout: 10_000 });
}

describe('importing a members file', () => {
  it('shows every bad line with its line number and what is wrong, writes nothing, then imports a good file all at once', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logIn(page, 'quanly');
    await Promise.all([page.waitForURL(`${central().base}/members/import`), page.click('a[href="/members/import"]')]);
    expect(await unlabelledInputs(page)).toEqual([]);

    const bad = Buffer.concat([
      Buffer.from(
        [
          header,
          'Phạm Thị Lan,0905200001,Phường Vĩnh Ninh,xuong-may,default,046095200001,allow',
          'Hồ Văn Minh,12,,xuong-may,default,046095200002,allow',
          'Phạm Lan lần hai,0905200003,,xuong-may,default,046095200001,allow',
          'Lê Văn Tám,0905200004,,don-vi-khac,default,046095200004,allow',
          '',
        ].join('\n'),
      ),
      // "Nguyễn" saved from Excel as Windows-1258: not UTF-8.
      Buffer.from([0x4e, 0x67, 0x75, 0x79, 0xea, 0xde, 0x6e]),
      Buffer.from(',0905200005,,xuong-may,default,046095200005,allow\n'),
    ]);
    await checkFile(page, csvFile('thanh-vien.csv', bad));
    expect(await page.textContent('#import-result [data-summary]')).toBe('Chưa ghi gì. Tệp có 5 dòng dữ liệu, 1 dòng hợp lệ và 4 lỗi liệt kê dưới đây. Hãy sửa tệp rồi kiểm tra lại.');
    const cells = await page.locator('#import-problems tbody td').allTextContents();
    const rows = Array.from({ length: cells.length / 3 }, (_, i) => cells.slice(i * 3, i * 3 + 3));
    expect(rows).toEqual([
      ['3', 'Số điện thoại', 'Số điện thoại gồm 8 đến 15 chữ số.'],
      ['4', 'Số định danh (CCCD)', 'Trùng số định danh với dòng 2.'],
      ['5', 'Đơn vị', 'Đơn vị phải là xuong-may, đơn vị bạn quản lý.'],
      ['6', 'Họ và tên', 'Tệp không ở dạng UTF-8 nên dấu tiếng Việt bị hỏng: hãy lưu lại tệp dạng "CSV UTF-8".'],
    ]);
    await screenshot(page, 'members-import-problems-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'members-import-problems-vi-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    // Nothing was written.
    await page.goto(`${central().base}/members?q=${encodeURIComponent('Phạm Thị Lan')}`);
    expect(await page.locator('tr[data-member]').count()).toBe(0);

    await page.goto(`${central().base}/members/import?lang=en`);
    await checkFile(page, csvFile('members.csv', bad));
    expect(await page.textContent('#import-problems tbody tr[data-line="4"]')).toContain('The same ID number as line 2.');
    await screenshot(page, 'members-import-problems-en-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'members-import-problems-en-phone');

    const good = [header, 'Phạm Thị Lan,0905200001,Phường Vĩnh Ninh,xuong-may,default,046095200001,allow', 'Hồ Văn Minh,0905200002,,xuong-may,default,046095200002,check', `${an.name},0905100001,Phường Phú Hội,xuong-may,default,${an.idNumber},deny`, ''].join('\n');
    await page.goto(`${central().base}/members/import?lang=vi`);
    await checkFile(page, csvFile('thanh-vien.csv', good));
    expect(await page.textContent('#import-result [data-summary]')).toBe('Cả 3 dòng đều hợp lệ: 2 người mới, 1 người đã có (được cập nhật nếu thông tin khác). Chưa ghi gì.');
    await screenshot(page, 'members-import-good-vi-phone');
    await page.click('#import-result button[data-step="import"]');
    await page.waitForSelector('#import-result a[href="/members"]', { timeout: 10_000 });
    expect(await page.textContent('#import-result [data-summary]')).toBe('Đã nhập 3 dòng: 2 người mới, 1 người được cập nhật, 0 người không đổi.');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'members-import-done-vi-desk');
    await page.click('#import-result a[href="/members"]');
    await page.fill('#q', 'Hồ Văn Minh');
    await Promise.all([page.waitForURL(/q=/), page.click('form.search button')]);
    expect(await page.locator('tr[data-member] td').nth(4).textContent()).toBe('Cần kiểm tra');
    expect(problems).toEqual([]);
    await context.close();

    const admin = await (await newContext(browser)).newPage();
    await logIn(admin, 'quantri', '/audit?action=member.import');
    expect(await admin.textContent('tr[data-action="member.import"]')).toContain('xuong-may');
    await admin.context().close();
  });

  it('a manager of another unit is told a person is registered elsewhere, and learns nothing more', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    await logIn(page, 'donvikhac', '/members/import');
    await checkFile(page, csvFile('x.csv', `${header}\nAi đó,0905999999,,don-vi-khac,default,${an.idNumber},allow\n`));
    expect(await page.textContent('#import-problems tbody tr[data-line="2"]')).toContain('Người này đã đăng ký ở đơn vị khác');
    expect(await page.content()).not.toContain(an.name);
    await context.close();
  });
});

describe("a member's photo", () => {
  it('a manager uploads a phone photo, which is served re-encoded without its GPS position only to those who may see the member; a non-image is refused; the photo is removed', async () => {
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logIn(page, 'quanly', `/members?q=${encodeURIComponent(an.name)}`);
    await Promise.all([page.waitForURL(/\/members\/[0-9a-f]{64}$/), page.click(`tr[data-member] a`)]);
    const memberUrl = page.url();
    expect(await page.textContent('[data-photo="none"]')).toBe('Chưa có ảnh.');
    expect(await unlabelledInputs(page)).toEqual([]);

    await page.setInputFiles('#photo-file', { name: 'loi.txt', mimeType: 'text/plain', buffer: Buffer.from('không phải ảnh') });
    await Promise.all([page.waitForURL(`${memberUrl}?photo=photo-unreadable`), page.click('#photo-form button')]);
    expect(await page.textContent('#photo-problem')).toBe('Không đọc được ảnh này: hãy chọn một ảnh JPEG hoặc PNG.');

    const upload = photoWithGps(1600, 1200);
    await page.setInputFiles('#photo-file', { name: 'anh.jpg', mimeType: 'image/jpeg', buffer: upload });
    await Promise.all([page.waitForURL(`${memberUrl}?done=photo`), page.click('#photo-form button')]);
    expect(await page.textContent('.notice')).toBe('Đã lưu ảnh.');
    await expect.poll(() => page.$eval('img.member-photo', (img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(640);
    const src = (await page.getAttribute('img.member-photo', 'src'))!;
    const served = await page.request.get(`${central().base}${src}`);
    expect(served.headers()['content-type']).toBe('image/jpeg');
    const body = await served.body();
    for (const marker of exifMarkers) expect(body.includes(marker)).toBe(false);
    expect(body.length).toBeLessThan(upload.length / 4);
    await screenshot(page, 'member-photo-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'member-photo-vi-phone');
    await page.goto(`${memberUrl}?lang=en`);
    await screenshot(page, 'member-photo-en-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'member-photo-en-desk');

    // Another unit's manager gets no face, and neither the photo's address nor the member page works for them.
    const stranger = await (await newContext(browser)).newPage();
    await logIn(stranger, 'donvikhac');
    expect((await stranger.request.get(`${central().base}${src}`)).status()).toBe(403);
    await stranger.context().close();

    await Promise.all([page.waitForURL(`${memberUrl}?done=photo-removed`), page.click(`form[action$="/photo/remove"] button`)]);
    expect(await page.textContent('[data-photo="none"]')).toBe('No photo yet.');
    expect((await page.request.get(`${central().base}${src}`)).status()).toBe(404);
    expect(problems).toEqual([]);
    await context.close();

    const admin = await (await newContext(browser)).newPage();
    await logIn(admin, 'quantri', '/audit?action=member.photo');
    expect(await admin.locator('tr[data-action="member.photo"]').count()).toBe(1);
    await admin.context().close();
  });
});
