import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getJson } from '../helpers/centralApi.js';
import { addConsoleUser, logInForm } from '../helpers/consoleUsers.js';
import { newContext, screenshot, screenshotDir, unlabelledInputs, useBrowser, viewports, watchProblems } from '../helpers/browser.js';
import { createCentralSite, qrgate } from '../helpers/centralSite.js';
import { pollDeadline } from '../helpers/pollDeadline.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * Who is inside now in Debian's chromium against a real central and a real terminal: three
 * people scan in at the gate (two registered members of the gate's unit, one card nobody
 * registered); the roll call lists them per unit, a manager of another unit sees none of it,
 * a guard on a phone marks a person safe and the missing count drops (and the admin's open
 * page shows that guard's mark by itself), an admin takes a person out with a reason and the
 * audit log says who, whom and why. Screenshots vi/en at desk and phone size, and the A4 print.
 */
const tempDir = useTempDir('qrgate-console-inside-');
const processes = useQrgateProcesses();
const launch = useBrowser();

const unit = 'Xưởng May Huế';

describe('the who-is-inside page', () => {
  it('lists who went in per unit, works as a roll call from a phone, and takes a person out with an audited reason', async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, 0, { people: 3 });
    const [lan, hung, stranger] = site.people as [string, string, string];
    const members = join(dir, 'members.csv');
    writeFileSync(
      members,
      `name,phone,address,unit,scope,idNumber,status\nNguyễn Thị Lan,0905123456,Phường Phú Hội,${unit},default,${lan},allow\nTrần Văn Hùng,0914000111,Phường Vĩnh Ninh,${unit},default,${hung},allow\n`,
    );
    await qrgate(['members', 'import', '--central-config', site.centralConfig, members]);
    const admin = await addConsoleUser(site.centralConfig, 'quantri', 'admin');
    const otherManager = await addConsoleUser(site.centralConfig, 'quanly.to5', 'manager', { unit: 'Tổ 5 Phường Phú Hội' });
    const central = await site.startCentral();
    processes.track(central.proc);
    // Provisioning beside the running central, as a technician does (they share central.db through WAL).
    const gate = await site.addTerminal('gate', { url: `mqtt://127.0.0.1:${central.mqttPort}` });
    await qrgate(['checkpoints', 'update', '--central-config', site.centralConfig, '--code', gate.code, '--unit', unit]);
    const guard = await addConsoleUser(site.centralConfig, 'baove.cong', 'guard', { checkpoints: [gate.code] });
    const terminal = processes.start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'uplink.connected');
    for (const id of [lan, hung, stranger]) {
      terminal.stdin.write(`${id}\n`);
      await terminal.waitForLine((l) => l.msg === 'scan.decided' && l.decision === 'granted');
    }
    await expect
      .poll(async () => (await getJson<{ total: number }>(central.api, '/api/inside')).total, pollDeadline)
      .toBe(3);

    const base = `http://127.0.0.1:${central.httpPort}`;
    const browser = await launch();

    // The admin: one group, the gate's unit, three people; the unregistered card without personal data.
    const adminContext = await newContext(browser);
    const adminPage = await adminContext.newPage();
    const problems = watchProblems(adminPage);
    await logInForm(adminPage, base, admin, '/inside');
    const group = adminPage.locator('section.inside-group');
    expect(await group.count()).toBe(1);
    expect(await group.locator('h2').textContent()).toBe(unit);
    expect(await adminPage.locator('#inside-total').textContent()).toBe('3');
    expect(await group.locator('tr[data-ref] td.person').allTextContents()).toEqual(['Nguyễn Thị Lan', 'Trần Văn Hùng', 'Thẻ chưa đăng ký']);
    const strangerRow = group.locator('tr[data-ref]').nth(2);
    expect((await strangerRow.locator('td').allTextContents()).slice(1, 4)).toEqual(['Thẻ chưa đăng ký', '—', '—']);
    expect(await group.locator('tr[data-ref]').first().locator('td').nth(5).textContent()).toBe('Cổng chính');
    expect(await unlabelledInputs(adminPage)).toEqual([]);
    await screenshot(adminPage, 'inside-vi-desk');

    // A manager of another unit: nobody, and none of the names anywhere on the page.
    const otherContext = await newContext(browser);
    const otherPage = await otherContext.newPage();
    await logInForm(otherPage, base, otherManager, '/inside');
    await otherPage.locator('#nobody-inside').waitFor({ timeout: 10_000 });
    const otherText = (await otherPage.content()) + JSON.stringify(await (await otherPage.request.get(`${base}/api/inside`)).json());
    expect(['Nguyễn Thị Lan', 'Trần Văn Hùng', lan.slice(-3) + '<', 'Cổng chính'].filter((text) => otherText.includes(text))).toEqual([]);
    expect(await otherPage.locator('tr[data-ref]').count()).toBe(0);
    await otherContext.close();

    // A guard of the gate, on a phone: starts the roll call, marks Lan safe; the missing count drops.
    const guardContext = await newContext(browser, { viewport: 'phone' });
    const guardPage = await guardContext.newPage();
    const guardProblems = watchProblems(guardPage);
    await logInForm(guardPage, base, guard, '/inside');
    await Promise.all([guardPage.waitForURL(/started=1/), guardPage.click('section.inside-group form[action="/inside/roll-call"] button')]);
    expect(await guardPage.locator('.missing-count').textContent()).toBe('còn thiếu 3');
    expect(await guardPage.locator('#inside-missing').textContent()).toBe('3');
    const lanRow = guardPage.locator('tr[data-ref]', { hasText: 'Nguyễn Thị Lan' });
    await Promise.all([guardPage.waitForURL(/#p-/), lanRow.locator('button.mark-safe').click()]);
    await guardPage.locator('tr.safe', { hasText: 'Nguyễn Thị Lan' }).waitFor({ timeout: 10_000 });
    expect(await guardPage.locator('.missing-count').textContent()).toBe('còn thiếu 2');
    expect(await guardPage.locator('#inside-missing').textContent()).toBe('2');
    expect(await guardPage.locator('tr.safe .safe-mark').textContent()).toMatch(/^An toàn · user:baove\.cong · /);
    // Guards correct nothing: no take-out for them.
    expect(await guardPage.locator('a.take-out').count()).toBe(0);
    await screenshot(guardPage, 'inside-vi-phone');
    // Pressing "new roll call" again only asks: Lan's mark would be lost. Keeping it changes nothing.
    await Promise.all([guardPage.waitForURL(`${base}/inside/roll-call`), guardPage.click('section.inside-group form[action="/inside/roll-call"] button')]);
    expect(await guardPage.locator('h1').textContent()).toBe('Bắt đầu lại điểm danh?');
    expect(await guardPage.textContent('#replace-roll-call')).toContain('Đã có 1 người được đánh dấu an toàn, còn 2 người chưa.');
    await screenshot(guardPage, 'inside-replace-vi-phone');
    await Promise.all([guardPage.waitForURL(`${base}/inside`), guardPage.click('#replace-roll-call a')]);
    expect(await guardPage.locator('#inside-missing').textContent()).toBe('2');
    expect(await guardPage.locator('tr.safe', { hasText: 'Nguyễn Thị Lan' }).count()).toBe(1);
    await guardPage.goto(`${base}/inside?missing=1`);
    expect(await guardPage.locator('tr[data-ref] td.person').allTextContents()).toEqual(['Trần Văn Hùng', 'Thẻ chưa đăng ký']);
    await guardPage.goto(`${base}/inside?lang=en`);
    expect(await guardPage.locator('.missing-count').textContent()).toBe('2 missing');
    await screenshot(guardPage, 'inside-en-phone');
    expect(guardProblems).toEqual([]);
    await guardContext.close();

    // The admin's page, still open from before the roll call, shows the guard's mark by itself.
    await adminPage.locator('tr.safe', { hasText: 'Nguyễn Thị Lan' }).waitFor({ timeout: 15_000 });
    expect(await adminPage.locator('#inside-missing').textContent()).toBe('2');

    // Take-out: Hùng left without scanning out. A reason is required; the audit log names who, whom and why.
    await adminPage.reload();
    await Promise.all([adminPage.waitForURL(/\/inside\/take-out\?ref=/), adminPage.locator('tr[data-ref]', { hasText: 'Trần Văn Hùng' }).locator('a.take-out').click()]);
    expect(await unlabelledInputs(adminPage)).toEqual([]);
    await adminPage.click('form[action="/inside/take-out"] button');
    await adminPage.locator('#reason-error').waitFor({ timeout: 10_000 });
    await adminPage.fill('#take-out-reason', 'Ra cổng sau, quên quẹt thẻ');
    await Promise.all([adminPage.waitForURL(/takenOut=1/), adminPage.click('form[action="/inside/take-out"] button')]);
    expect(await adminPage.locator('#inside-total').textContent()).toBe('2');
    expect(await adminPage.locator('tr[data-ref] td.person').allTextContents()).toEqual(['Nguyễn Thị Lan', 'Thẻ chưa đăng ký']);
    await adminPage.goto(`${base}/audit?action=inside.take-out`);
    const audit = await adminPage.locator('tbody tr').first().locator('td').allTextContents();
    expect(audit.join(' | ')).toContain(' | quantri | ');
    expect(audit.join(' | ')).toContain(`*********${hung.slice(-3)}`);
    expect(audit.join(' | ')).toContain('Ra cổng sau, quên quẹt thẻ');

    await adminPage.goto(`${base}/inside?lang=en`);
    await screenshot(adminPage, 'inside-en-desk');
    await adminPage.goto(`${base}/inside?lang=vi`);
    await adminPage.setViewportSize(viewports.desk);

    // The printed roll call: A4, no menu or buttons, the heading with the time, the counts and a tick box per person.
    await adminPage.emulateMedia({ media: 'print' });
    expect(await adminPage.locator('.print-head').isVisible()).toBe(true);
    expect(await adminPage.locator('.top').isVisible()).toBe(false);
    expect(await adminPage.locator('button.mark-safe').first().isVisible()).toBe(false);
    expect(await adminPage.locator('td.tick').first().isVisible()).toBe(true);
    await adminPage.setViewportSize({ width: 794, height: 1123 });
    await screenshot(adminPage, 'inside-vi-print');
    mkdirSync(screenshotDir, { recursive: true });
    const pdf = await adminPage.pdf({ path: join(screenshotDir, 'inside-vi-print.pdf'), format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

    // Replacing the roll call: an answer about a roll call that is no longer the one under way
    // asks again; confirmed, the new one starts from nobody marked.
    await adminPage.emulateMedia({ media: 'screen' });
    await adminPage.setViewportSize(viewports.desk);
    await adminPage.goto(`${base}/inside?lang=en`);
    await Promise.all([adminPage.waitForURL(`${base}/inside/roll-call`), adminPage.click('section.inside-group form[action="/inside/roll-call"] button')]);
    expect(await adminPage.textContent('#replace-roll-call')).toContain('1 marked safe so far, 1 still missing.');
    await screenshot(adminPage, 'inside-replace-en-desk');
    const stale = await adminPage.request.post(`${base}/inside/roll-call`, {
      form: { unit: (await adminPage.inputValue('#replace-roll-call input[name="unit"]'))!, replaces: '999', _csrf: await adminPage.inputValue('#replace-roll-call input[name="_csrf"]') },
    });
    expect(stale.status()).toBe(409);
    expect(await stale.text()).toContain('someone started another roll call');
    await adminPage.goto(`${base}/inside`);
    expect(await adminPage.locator('tr.safe').count()).toBe(1);
    await Promise.all([adminPage.waitForURL(`${base}/inside/roll-call`), adminPage.click('section.inside-group form[action="/inside/roll-call"] button')]);
    await Promise.all([adminPage.waitForURL(/started=1/), adminPage.click('#replace-roll-call button.danger')]);
    expect(await adminPage.locator('tr.safe').count()).toBe(0);
    expect(await adminPage.locator('#inside-missing').textContent()).toBe('2');
    expect(problems).toEqual([]);
    await adminContext.close();
  });
});
