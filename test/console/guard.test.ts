import { describe, expect, it } from 'vitest';
import { cccdQr } from '../../provisioning/samplePeople.js';
import { addConsoleUser, logInForm } from '../helpers/consoleUsers.js';
import { newContext, screenshot, useBrowser, watchProblems } from '../helpers/browser.js';
import { createCentralSite } from '../helpers/centralSite.js';
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

describe('the guard screen', () => {
  it('shows a waiting scan without a reload, confirms it so the relay pulses for that scan, and opens the gate remotely with a reason', async () => {
    const site = await createCentralSite(tempDir(), 0, { people: 2 });
    const central = await site.startCentral();
    processes.track(central.proc);
    const gate = await site.addTerminal('gate', {
      url: `mqtt://127.0.0.1:${central.mqttPort}`,
      lanes: [{ name: 'in', direction: 'in', confirm: 'manual', scanner: { type: 'stdin' }, gpio: { type: 'sim', outputs: { relay: 4 } } }],
    });
    const guard = await addConsoleUser(site.centralConfig, 'baove', 'guard', { checkpoints: [gate.code] });
    const terminal = processes.start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'uplink.connected');

    const base = `http://127.0.0.1:${central.httpPort}`;
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
    await card.waitFor({ state: 'detached', timeout: 10_000 });

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
});
