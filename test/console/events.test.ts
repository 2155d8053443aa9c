import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addConsoleUser, logInForm } from '../helpers/consoleUsers.js';
import { newContext, screenshot, useBrowser, watchProblems } from '../helpers/browser.js';
import { createCentralSite, qrgate } from '../helpers/centralSite.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * The in/out log in Debian's chromium against a real central and a real terminal: a scan typed
 * at the gate appears in the open page without a reload, filters narrow it, and the CSV
 * download carries the person's name with its diacritics.
 */
const tempDir = useTempDir('qrgate-console-events-');
const processes = useQrgateProcesses();
const launch = useBrowser();

describe('the in/out log page', () => {
  it('shows a new scan live, filters by decision, residence, ID number (never in the URL) and unit, and exports the same log as CSV with diacritics intact', async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, 0, { people: 2 });
    const members = join(dir, 'members.csv');
    writeFileSync(members, `name,phone,address,unit,scope,idNumber,status\nNguyễn Thị Ánh,0905123456,Phường Phú Hội,xuong-may,default,${site.people[0]},allow\n`);
    await qrgate(['members', 'import', '--central-config', site.centralConfig, members]);
    const admin = await addConsoleUser(site.centralConfig, 'quantri', 'admin');
    const central = await site.startCentral();
    processes.track(central.proc);
    const gate = await site.addTerminal('gate', { url: `mqtt://127.0.0.1:${central.mqttPort}` });
    const terminal = processes.start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'uplink.connected');

    const base = `http://127.0.0.1:${central.httpPort}`;
    const browser = await launch();
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logInForm(page, base, admin, '/events');
    expect(await page.locator('tr[data-event]').count()).toBe(0);
    // A scan stored before the feed opens would only show on a reload: wait for the browser to hold the feed.
    await page.waitForSelector('#live-state[data-live="open"]', { state: 'attached' });

    terminal.stdin.write(`${site.people[0]}\n`);
    const decided = await terminal.waitForLine((l) => l.msg === 'scan.decided');
    const row = page.locator(`tr[data-event="${String(decided.eventId)}"]`);
    await row.waitFor({ timeout: 10_000 });
    console.log(`in/out log: the scan was on the open page ${Date.now() - Date.parse(String(decided.time))} ms after the terminal decided it`);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1)).toEqual(['Cổng chính', `${gate.terminalId} · in`, 'Vào', 'Cho qua', 'Hợp lệ', `Nguyễn Thị Ánh · xuong-may · *********${site.people[0]!.slice(-3)}`]);

    terminal.stdin.write('046099999999\n');
    const refused = await terminal.waitForLine((l) => l.msg === 'scan.decided' && l.decision === 'refused');
    await page.locator(`tr[data-event="${String(refused.eventId)}"]`).waitFor({ timeout: 10_000 });
    await screenshot(page, 'events-vi-desk');

    await page.selectOption('#f-decision', 'refused');
    await Promise.all([page.waitForURL(/decision=refused/), page.click('form.filters button')]);
    expect(await page.locator('tr[data-event]').count()).toBe(1);
    expect(await page.locator('tr[data-event] td').nth(5).textContent()).toBe('Không có trong danh sách');

    await page.goto(`${base}/events`);
    const href = await page.getAttribute('a[href^="/events.csv"]', 'href');
    const csv = await page.request.get(`${base}${href}`);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const text = (await csv.body()).toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text).toContain('Nguyễn Thị Ánh');
    expect(text.trim().split('\r\n')).toHaveLength(3);

    // Who scanned: residence typed without diacritics, then the person's ID number, which
    // the form posts and the central turns into a ref: the number never reaches a URL.
    await page.fill('#f-residence', 'phu hoi');
    await Promise.all([page.waitForURL(/residence=phu\+hoi/), page.click('form.filters button')]);
    expect(await page.locator('tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')))).toEqual([String(decided.eventId)]);
    await page.goto(`${base}/events`);
    await page.fill('#f-person', site.people[0]!);
    await Promise.all([page.waitForURL(/member=[0-9a-f]{64}/), page.click('form.filters button')]);
    expect(page.url()).not.toContain(site.people[0]!);
    expect(await page.inputValue('#f-person')).toBe('');
    expect(await page.locator('#member-filter').textContent()).toContain('Đang lọc theo một người');
    expect(await page.locator('tr[data-event]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')))).toEqual([String(decided.eventId)]);
    const personCsv = await page.request.get(`${base}${await page.getAttribute('a[href^="/events.csv"]', 'href')}`);
    expect((await personCsv.body()).toString('utf8').trim().split('\r\n')).toHaveLength(2);
    await page.fill('#f-unit', 'to-dan-pho-9');
    await Promise.all([page.waitForURL(/unit=to-dan-pho-9/), page.click('form.filters button')]);
    expect(await page.locator('tr[data-event]').count()).toBe(0);
    await page.locator('#no-events').waitFor();
    await page.click('#member-filter a');
    await page.waitForURL((url) => !url.search.includes('member='));
    await screenshot(page, 'events-filtered-vi-desk');

    await page.goto(`${base}/events`);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'events-vi-phone');
    await page.goto(`${base}/events?lang=en`);
    expect(await page.locator(`tr[data-event="${String(decided.eventId)}"] td`).nth(4).textContent()).toBe('Granted');
    await screenshot(page, 'events-en-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'events-en-desk');
    expect(problems).toEqual([]);
    await context.close();
  });
});
