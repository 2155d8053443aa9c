import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { cccdQr } from '../../provisioning/samplePeople.js';
import { addConsoleUser, logInForm } from '../helpers/consoleUsers.js';
import { newContext, screenshot, useBrowser, watchProblems } from '../helpers/browser.js';
import { createCentralSite, qrgate, type CentralSite } from '../helpers/centralSite.js';
import { photoWithGps } from '../helpers/photos.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * The guard screen in Debian's chromium, on a phone, against a real central and a real
 * terminal with a manual-confirm lane: the scan appears by itself, the guard lets the person
 * through, and that very scan pulses the gate's relay with the guard recorded.
 */
const tempDir = useTempDir('qrgate-console-guard-');
const processes = useQrgateProcesses();
const launch = useBrowser();

/**
 * A central (after `prepare`), one terminal whose keyboard lane waits for a manual confirm,
 * connected to it, and a guard of its checkpoint.
 */
async function manualGate(prepare?: (site: CentralSite) => Promise<void>) {
  const site = await createCentralSite(tempDir(), 0, { people: 2 });
  await prepare?.(site);
  const central = await site.startCentral();
  processes.track(central.proc);
  const gate = await site.addTerminal('gate', {
    url: `mqtt://127.0.0.1:${central.mqttPort}`,
    lanes: [{ name: 'in', direction: 'in', confirm: 'manual', scanner: { type: 'stdin' }, gpio: { type: 'sim', outputs: { relay: 4 } } }],
  });
  const guard = await addConsoleUser(site.centralConfig, 'baove', 'guard', { checkpoints: [gate.code] });
  const terminal = processes.start(['terminal', '--config', gate.config], 'pipe');
  await terminal.waitForLine((l) => l.msg === 'uplink.connected');
  return { site, guard, terminal, base: `http://127.0.0.1:${central.httpPort}` };
}

describe('the guard screen', () => {
  it('shows a waiting scan without a reload, confirms it so the relay pulses for that scan, and opens the gate remotely with a reason', async () => {
    const { site, guard, terminal, base } = await manualGate();
    const browser = await launch();
    const context = await newContext(browser, { viewport: 'phone' });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logInForm(page, base, guard, '/guard');
    await page.waitForSelector('#guard-state:text("Không có ai đang chờ xác nhận.")');
    await screenshot(page, 'guard-vi-phone');

    terminal.stdin.write(`${cccdQr({ idNumber: site.people[0]!, name: 'Nguyễn Văn An', cardId: null, status: 'allow' })}\n`);
    const held = await terminal.waitForLine((l) => l.msg === 'scan.pending');
    const card = page.locator(`[data-pending-id="${String(held.pendingId)}"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.locator('.countdown').textContent()).toMatch(/^\d+ giây còn lại$/);
    await screenshot(page, 'guard-pending-vi-phone');
    await card.locator('button.confirm').click();

    const pulse = await terminal.waitForLine((l) => l.msg === 'relay.pulse');
    expect(pulse).toMatchObject({ eventId: held.pendingId, decision: 'granted' });
    const decided = await terminal.waitForLine((l) => l.msg === 'scan.decided');
    expect(decided).toMatchObject({ eventId: held.pendingId, reason: 'confirmed', answeredBy: 'user:baove' });
    await card.waitFor({ state: 'detached', timeout: 30_000 });

    await page.fill('#open-reason', 'Xe cứu thương vào');
    await page.click('form[data-remote-open] button');
    await page.waitForSelector('#open-result:text("Đã gửi lệnh mở cổng.")');
    await terminal.waitForLine((l) => l.msg === 'relay.pulse' && l.eventId !== held.pendingId);

    await page.goto(`${base}/guard?lang=en`);
    await page.waitForSelector('#guard-state:text("Nobody is waiting to be confirmed.")');
    await screenshot(page, 'guard-en-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'guard-en-desk');
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows the member's photo when the person has one, and no image at all when not", async () => {
    const { site, guard, terminal, base } = await manualGate(async (site) => {
      const [withPhoto, without] = site.people as [string, string];
      const members = join(site.dir, 'members.csv');
      writeFileSync(members, `name,phone,address,unit,scope,idNumber,status\nLê Thị Hoa,0905123456,Phường Phú Hội,xuong-may,default,${withPhoto},allow\nPhan Văn Dũng,0905654321,Phường Vĩnh Ninh,xuong-may,default,${without},check\n`);
      await qrgate(['members', 'import', '--central-config', site.centralConfig, members]);
    });
    const [withPhoto, without] = site.people as [string, string];
    const manager = await addConsoleUser(site.centralConfig, 'quanly', 'manager', { unit: 'xuong-may' });
    const browser = await launch();

    // The unit's manager gives Hoa a photo on her member page, as members.test does.
    const office = await (await newContext(browser)).newPage();
    await logInForm(office, base, manager, `/members?q=${encodeURIComponent('Lê Thị Hoa')}`);
    await Promise.all([office.waitForURL(/\/members\/[0-9a-f]{64}$/), office.click('tr[data-member] a')]);
    await Promise.all([office.waitForURL(/done=photo/), office.setInputFiles('#photo-file', { name: 'hoa.jpg', mimeType: 'image/jpeg', buffer: photoWithGps(800, 600) }).then(() => office.click('#photo-form button'))]);
    await office.context().close();

    const context = await newContext(browser, { viewport: 'phone' });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logInForm(page, base, guard, '/guard');
    const seen = new Set<string>();
    const waitingCard = async (idNumber: string, name: string): Promise<{ card: Locator; pendingId: string }> => {
      terminal.stdin.write(`${cccdQr({ idNumber, name, cardId: null, status: 'allow' })}\n`);
      const held = await terminal.waitForLine((l) => l.msg === 'scan.pending' && !seen.has(String(l.pendingId)));
      seen.add(String(held.pendingId));
      const card = page.locator(`[data-pending-id="${String(held.pendingId)}"]`);
      await card.waitFor({ timeout: 10_000 });
      return { card, pendingId: String(held.pendingId) };
    };

    const hoa = await waitingCard(withPhoto, 'Lê Thị Hoa');
    expect(await hoa.card.locator('.person').textContent()).toBe('Lê Thị Hoa');
    // The checkpoint by name, and a status that does not read like the confirm button ("Cho qua").
    expect(await hoa.card.locator('p.hint').textContent()).toBe('Cổng chính · làn in · vào');
    expect(await hoa.card.locator('.facts-line .status').textContent()).toBe('Được phép ra vào');
    const photo = hoa.card.locator('img.pending-photo');
    // Loaded, not merely present: a broken image has naturalWidth 0.
    await expect.poll(() => photo.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await photo.getAttribute('alt')).toBe('Ảnh của Lê Thị Hoa');
    expect(await photo.getAttribute('src')).toBe(`/api/pending/${hoa.pendingId}/photo`);
    await screenshot(page, 'guard-photo-vi-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'guard-photo-vi-desk');
    await page.setViewportSize({ width: 390, height: 844 });
    await hoa.card.locator('button.danger').click();
    await hoa.card.waitFor({ state: 'detached', timeout: 30_000 });

    await page.goto(`${base}/guard?lang=en`);
    const dung = await waitingCard(without, 'Phan Văn Dũng');
    expect(await dung.card.locator('.person').textContent()).toBe('Phan Văn Dũng');
    expect(await dung.card.locator('.facts-line').textContent()).toContain('Check at the gate');
    expect(await page.locator('img').count()).toBe(0);
    await screenshot(page, 'guard-nophoto-en-phone');
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'guard-nophoto-en-desk');
    expect(problems).toEqual([]);
    await context.close();
  });
});
