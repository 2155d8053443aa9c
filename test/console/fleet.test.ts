import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { sampleIdNumber } from '../../provisioning/samplePeople.js';
import { screenshot, unlabelledInputs, useBrowser, watchProblems } from '../helpers/browser.js';
import { screenshotsViEn, startConsoleCentral } from '../helpers/consoleCentral.js';
import { qrgate, type CentralSite } from '../helpers/centralSite.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The fleet, lists and audit pages in Debian's chromium against a real central and a real
 * terminal that takes its list from the central's registry: the admin sees it online with
 * its list version, sees it go offline when its process dies, publishes a new version,
 * rotates its secret and removes it, and finds all of that in the audit log; a guard sees
 * the fleet without the admin's buttons, an inspector gets the refusal page.
 */
const tempDir = useTempDir('qrgate-console-fleet-');
const processes = useQrgateProcesses();
const launch = useBrowser();
const scope = 'xuong-1';

/** Reloads `url` until `condition` holds on the page: the fleet changes without the page asking. */
async function reloadUntil(page: Page, url: string, condition: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(
    async () => {
      await page.goto(url);
      return condition();
    },
    60_000,
    what,
    250,
  );
}

async function world() {
  // Provisioned in prepare(), before the central starts.
  let gate!: Awaited<ReturnType<CentralSite['addTerminal']>>;
  let spare!: Awaited<ReturnType<CentralSite['addTerminal']>>;
  const central = await startConsoleCentral(tempDir(), {
    people: 1,
    async prepare(site) {
      const csv = join(site.dir, 'members.csv');
      writeFileSync(csv, `name,phone,address,unit,scope,idNumber,status\n"Trần Văn Bảo",0905 123 001,"12 Lê Lợi, Huế",Xưởng 1,${scope},${sampleIdNumber(700_001)},allow\n`);
      await qrgate(['members', 'import', '--central-config', site.centralConfig, csv]);
      await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope]);
      gate = await site.addTerminal('gate', { lists: [scope], central: { telemetryIntervalMs: 1000 } });
      spare = await site.addTerminal('spare', { lists: [scope] });
    },
    users: () => ({ quantri: { role: 'admin' }, baove: { role: 'guard', checkpoints: [gate.code] }, thanhtra: { role: 'inspector' } }),
  });
  processes.track(central.proc);
  return { site: central.site, gate, spare, central, base: central.base };
}

describe('the fleet, lists and audit pages', () => {
  it('show a terminal online with its list, then offline when it dies; the admin publishes, rotates its secret and removes it, and the audit log has it all', async () => {
    const { site, gate, central, base } = await world();
    const terminal = processes.start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);

    const browser = await launch();
    const page = await central.logIn(browser, 'quantri');
    const problems = watchProblems(page);
    const row = page.locator(`article[data-terminal="${gate.terminalId}"]`);
    await reloadUntil(page, `${base}/fleet`, async () => (await row.getAttribute('data-online')) === 'true' && (await row.locator(`[data-list="${scope}"]`).textContent())?.includes('v1') === true, 'the terminal online with list v1');
    expect(await page.textContent('h1')).toBe('Thiết bị tại cổng');
    expect(await row.locator('[data-fact="checkpoint"]').textContent()).toBe(`Cổng chính ${gate.code}`);
    expect(await row.locator('h2').textContent()).toBe(`${gate.terminalId} Trực tuyến`);
    expect(await row.locator('[data-fact="outbox"]').textContent()).toBe('0');
    expect(await row.locator('[data-fact="scanners"]').textContent()).toBe('in: đã kết nối');
    expect(await row.locator('a', { hasText: 'Gỡ bỏ' }).count()).toBe(1);
    await screenshotsViEn(page, `${base}/fleet`, 'fleet');

    // Lists: v1 published, the terminal on it; "publish now" makes v2 and the terminal follows.
    await page.goto(`${base}/lists`);
    const card = page.locator(`section[data-scope="${scope}"]`);
    expect(await card.locator('tr[data-version="1"] td').first().textContent()).toBe('v1');
    expect(await card.locator(`tr[data-terminal="${gate.terminalId}"] td`).nth(2).textContent()).toBe('v1');
    await Promise.all([page.waitForURL(/\/lists\?published=/), card.locator('button', { hasText: 'Phát hành ngay' }).click()]);
    expect(await page.textContent('.notice')).toBe(`Đã phát hành ${scope} v2.`);
    expect(await card.locator('tr[data-version] td:first-child').allTextContents()).toEqual(['v2', 'v1']);
    await terminal.waitForLine((l) => l.msg === 'lists.applied' && l.version === 2, 60_000);
    await reloadUntil(page, `${base}/lists`, async () => (await card.locator(`tr[data-terminal="${gate.terminalId}"] td`).nth(2).textContent()) === 'v2', 'the terminal reported on v2');
    expect(await card.locator('[data-warning="lag"]').count()).toBe(0);
    await screenshotsViEn(page, `${base}/lists`, 'lists');

    // The terminal's process dies: the fleet shows it offline.
    terminal.kill('SIGKILL');
    await terminal.exited;
    await reloadUntil(page, `${base}/fleet`, async () => (await row.getAttribute('data-online')) === 'false', 'the terminal shown offline');
    expect(await row.locator('h2').textContent()).toBe(`${gate.terminalId} Mất kết nối`);

    // A version the dead terminal never got, expiring within a day: the lists page warns of both.
    await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope, '--expires-in-days', '0.5']);
    await page.goto(`${base}/lists`);
    expect(await card.locator('[data-warning="lag"]').textContent()).toBe(`1 thiết bị chưa chạy phiên bản mới nhất v3: ${gate.terminalId}`);
    expect(await card.locator('[data-warning="expiry"]').textContent()).toMatch(/^Phiên bản v3 hết hạn lúc .+, trong vòng 24 giờ: hãy phát hành phiên bản mới\.$/);
    await screenshot(page, 'lists-warnings-vi-desk');
    await page.goto(`${base}/fleet`);

    // Rotate: a confirmation step, then the new secret shown once.
    await row.locator('a', { hasText: 'Đổi mật khẩu' }).click();
    expect(await page.textContent('h1')).toBe(`Đổi mật khẩu của thiết bị ${gate.terminalId}?`);
    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main form button')]);
    expect(answer.headers()['cache-control']).toBe('no-store');
    const secret = await page.inputValue('#new-secret');
    expect(secret.length).toBeGreaterThanOrEqual(20);
    expect(secret).not.toBe(gate.password);
    await screenshot(page, 'fleet-rotated-vi-desk');
    await page.goto(`${base}/fleet`);
    expect(await page.content()).not.toContain(secret);

    // Remove: a confirmation step, then the terminal is gone from the fleet.
    await row.locator('a', { hasText: 'Gỡ bỏ' }).click();
    expect(await page.textContent('h1')).toBe(`Gỡ bỏ thiết bị ${gate.terminalId}?`);
    await Promise.all([page.waitForURL(/\/fleet\?removed=/), page.click('main form button')]);
    expect(await page.textContent('.notice')).toBe(`Đã gỡ bỏ thiết bị ${gate.terminalId}.`);
    expect(await row.count()).toBe(0);

    // The audit log, newest first: the admin's changes among the CLI's; filtered by actor, then by action.
    await page.goto(`${base}/audit`);
    const entries = () => page.locator('tr[data-audit]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-action'), r.children[1]!.textContent, r.children[3]!.textContent]));
    // Actors as people read them: a username, the command line with its OS user.
    expect((await entries()).slice(0, 3)).toEqual([
      ['terminal.remove', 'quantri', gate.terminalId],
      ['terminal.rotate-secret', 'quantri', gate.terminalId],
      ['list.publish', expect.stringMatching(/^dòng lệnh: .+/), scope],
    ]);
    // Filtered by typing the username alone.
    await page.fill('#audit-actor', 'quantri');
    await Promise.all([page.waitForURL(/actor=quantri/), page.click('form.search button')]);
    const byQuantri = [
      ['terminal.remove', 'quantri', gate.terminalId],
      ['terminal.rotate-secret', 'quantri', gate.terminalId],
      ['list.publish', 'quantri', scope],
      ['session.login', 'quantri', 'quantri'],
    ];
    expect(await entries()).toEqual(byQuantri);
    // Or by following an actor's name from a row.
    await page.goto(`${base}/audit`);
    await Promise.all([page.waitForURL(/actor=user%3Aquantri/), page.locator('tr[data-audit] td[data-actor="user:quantri"] a').first().click()]);
    expect(await entries()).toEqual(byQuantri);
    await page.fill('#audit-actor', '');
    await page.fill('#audit-action', 'list.publish');
    await Promise.all([page.waitForURL(/action=list.publish/), page.click('form.search button')]);
    expect((await entries()).map(([action, , target]) => [action, target])).toEqual([
      ['list.publish', scope],
      ['list.publish', scope],
      ['list.publish', scope],
    ]);
    await page.goto(`${base}/audit?action=list.publish&lang=en`);
    expect((await entries()).map(([, actor]) => actor)).toEqual([expect.stringMatching(/^command line: .+/), 'quantri', expect.stringMatching(/^command line: .+/)]);
    await screenshotsViEn(page, `${base}/audit`, 'audit');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a guard the fleet of its checkpoint without the admin buttons, and an inspector the refusal page', async () => {
    const { gate, spare, central, base } = await world();
    const browser = await launch();
    const guard = await central.logIn(browser, 'baove', { viewport: 'phone' });
    const problems = watchProblems(guard);
    await guard.goto(`${base}/fleet`);
    expect(await guard.locator('article[data-terminal] h2 .code').allTextContents()).toEqual(expect.arrayContaining([gate.terminalId, spare.terminalId]));
    expect(await guard.locator(`article[data-terminal="${spare.terminalId}"] h2`).textContent()).toBe(`${spare.terminalId} Chưa từng kết nối`);
    expect(await guard.locator('a[href$="/remove"], a[href$="/rotate-secret"], main form').count()).toBe(0);
    expect(await guard.locator('nav a[href="/lists"], nav a[href="/audit"]').count()).toBe(0);
    await screenshot(guard, 'fleet-guard-vi-phone');
    expect(problems).toEqual([]);
    const refused = await guard.goto(`${base}/fleet/${gate.terminalId}/remove`);
    expect(refused?.status()).toBe(403);
    await guard.context().close();

    const inspector = await central.logIn(browser, 'thanhtra');
    expect(await inspector.locator('nav a[href="/fleet"]').count()).toBe(0);
    for (const path of ['/fleet', '/lists', '/audit']) {
      const answer = await inspector.goto(`${base}${path}`);
      expect(answer?.status()).toBe(403);
      expect(await inspector.textContent('main .error')).toBe('Bạn không có quyền xem trang này.');
    }
    await screenshot(inspector, 'fleet-inspector-vi-desk');
    await inspector.context().close();
  });
});
