import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleIdNumber } from '../../provisioning/samplePeople.js';
import { screenshot, useBrowser, watchProblems } from '../helpers/browser.js';
import { screenshotsViEn, startConsoleCentral } from '../helpers/consoleCentral.js';
import { qrgate, type CentralSite } from '../helpers/centralSite.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The overview's alarms in Debian's chromium against a real central and a real terminal: a
 * list published to expire within the day raises an alarm at once; the terminal's process
 * dies and, past the (test-shortened) offline threshold, an offline alarm comes first. The
 * operator acknowledges it with a note; it shows who, when and the note, stops counting as
 * new, and the audit page has the acknowledgement. A manager of another unit sees none of it.
 */
const tempDir = useTempDir('qrgate-console-alarms-');
const processes = useQrgateProcesses();
const launch = useBrowser();
const scope = 'xuong-1';

describe('the overview alarms', () => {
  it('raise a list expiry and an offline terminal; an operator acknowledges one with a note and the audit page shows it; another unit sees none', async () => {
    // Provisioned in prepare(), before the central starts.
    let gate!: Awaited<ReturnType<CentralSite['addTerminal']>>;
    const central = await startConsoleCentral(tempDir(), {
      people: 1,
      users: { vanhanh: { role: 'admin' }, 'quanly-to5': { role: 'manager', unit: 'Tổ 5' } },
      async prepare(site) {
        // Two seconds instead of five minutes, so the test need not wait: the threshold is the central's config.
        const config = JSON.parse(readFileSync(site.centralConfig, 'utf8')) as Record<string, unknown>;
        writeFileSync(site.centralConfig, JSON.stringify({ ...config, alarms: { offlineAfterS: 2 } }));
        const csv = join(site.dir, 'members.csv');
        writeFileSync(csv, `name,phone,address,unit,scope,idNumber,status\n"Trần Văn Bảo",0905 123 001,"12 Lê Lợi, Huế",Xưởng 1,${scope},${sampleIdNumber(700_001)},allow\n`);
        await qrgate(['members', 'import', '--central-config', site.centralConfig, csv]);
        await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope, '--expires-in-days', '0.5']);
        gate = await site.addTerminal('gate', { lists: [scope], central: { telemetryIntervalMs: 1000 } });
      },
    });
    processes.track(central.proc);
    const { base } = central;
    const terminal = processes.start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);

    const browser = await launch();
    const page = await central.logIn(browser, 'vanhanh');
    const problems = watchProblems(page);
    const alarms = page.locator('article[data-alarm]');
    expect(await alarms.evaluateAll((cards) => cards.map((c) => [c.getAttribute('data-kind'), c.getAttribute('data-state')]))).toEqual([['list-expiring', 'new']]);
    expect(await page.textContent('[data-alarms="counts"]')).toBe('1 cảnh báo mới0 đã ghi nhận');

    // The terminal dies: past the threshold, the offline alarm comes first (critical before warning).
    terminal.kill('SIGKILL');
    await terminal.exited;
    await waitFor(
      async () => {
        await page.goto(`${base}/`);
        return (await alarms.first().getAttribute('data-kind')) === 'terminal-offline';
      },
      60_000,
      'the offline alarm on the overview',
      250,
    );
    const offline = alarms.first();
    const alarmId = (await offline.getAttribute('data-alarm'))!;
    expect(await offline.locator('h3').textContent()).toBe('Nghiêm trọng Thiết bị mất kết nối Mới');
    expect(await offline.locator('[data-fact="where"]').textContent()).toBe(`Thiết bị ${gate.terminalId} · Cổng chính ${gate.code}`);
    expect(await offline.locator('[data-fact="since"]').textContent()).toMatch(/^\d\d:\d\d:\d\d \d\d\/\d\d\/\d{4}$/);
    expect(await offline.locator('[data-fact="detail"]').textContent()).toMatch(/^Thiết bị liên lạc lần cuối lúc .+\.$/);
    await screenshotsViEn(page, `${base}/`, 'overview-alarms');

    // Acknowledge with a note: the browser asks for the note first (required), the central keeps who, when and what.
    const note = 'Đã gọi kỹ thuật viên, cổng đang mất điện';
    await offline.locator('button', { hasText: 'Ghi nhận' }).click();
    expect(await offline.locator('textarea').evaluate((box) => (box as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
    // Past the browser's check (an old browser, a script), the central refuses it too and says why at the alarm.
    await offline.locator('textarea').evaluate((box) => box.removeAttribute('required'));
    await Promise.all([page.waitForURL(/problem=note/), offline.locator('button', { hasText: 'Ghi nhận' }).click()]);
    expect(await offline.locator('.problem').textContent()).toBe('Hãy viết ghi chú (tối đa 500 ký tự) trước khi ghi nhận.');
    expect(await offline.getAttribute('data-state')).toBe('new');
    await offline.locator('textarea').fill(note);
    await Promise.all([page.waitForURL(/\/\?acknowledged=/), offline.locator('button', { hasText: 'Ghi nhận' }).click()]);
    expect(await page.textContent('.alarms .notice')).toBe('Đã ghi nhận cảnh báo.');
    const acked = page.locator(`article[data-alarm="${alarmId}"]`);
    expect(await acked.getAttribute('data-state')).toBe('acknowledged');
    // Who, as a person reads it: the username, not the audit log's `user:vanhanh`.
    expect(await acked.locator('[data-fact="acknowledged"]').textContent()).toMatch(new RegExp(`^Đã ghi nhận bởi vanhanh lúc .+: ${note}$`));
    expect(await acked.locator('form').count()).toBe(0);
    expect(await page.textContent('[data-alarms="counts"]')).toBe('1 cảnh báo mới1 đã ghi nhận');
    await screenshotsViEn(page, `${base}/`, 'overview-alarms-acknowledged');

    // The audit page has it, with the note.
    await page.goto(`${base}/audit?action=alarm.acknowledge`);
    const row = page.locator('tr[data-audit][data-action="alarm.acknowledge"]');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').nth(1).textContent()).toBe('vanhanh');
    expect(await row.locator('td').nth(3).textContent()).toBe(gate.terminalId);
    expect(await row.textContent()).toContain(alarmId);
    expect(await row.textContent()).toContain(note);
    await screenshot(page, 'overview-alarms-audit-vi-desk');
    expect(problems).toEqual([]);
    await page.context().close();

    // A manager of another unit: no alarm of this site, on the page or through the API.
    const other = await central.logIn(browser, 'quanly-to5', { viewport: 'phone' });
    expect(await other.locator('article[data-alarm]').count()).toBe(0);
    expect(await other.textContent('[data-alarms="none"]')).toBe('Không có cảnh báo nào.');
    const api = await other.evaluate(async () => (await fetch('/api/alarms')).json());
    expect(api).toEqual({ alarms: [], counts: { new: 0, acknowledged: 0 } });
    await screenshot(other, 'overview-alarms-other-unit-vi-phone');
    await other.context().close();
  });
});
