import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleIdNumber } from '../../provisioning/samplePeople.js';
import { createCentralSite, qrgate, type CentralSite } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { scanOnce } from '../helpers/delivery.js';
import { useQrgateProcesses, type LogLine } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * Issue 4 end to end, with real processes: people go into the central's registry, the
 * operator publishes, and a terminal that knows nothing but its one MQTT connection takes
 * the list, each change after it, and what it missed while it was off.
 */

const scope = 'site-a';

function writeMembers(file: string, ids: readonly string[]): void {
  const rows = ids.map((id, i) => `"Nguyễn Thị Ngọc ${i}",0905 123 ${String(i).padStart(3, '0')},"12 Lê Lợi, Phường Phú Hội, Huế",Xưởng ${i % 4},${scope},${id},allow`);
  writeFileSync(file, `name,phone,address,unit,scope,idNumber,status\n${rows.join('\n')}\n`);
}

describe('list sync from the registry to a terminal', () => {
  const tempDir = useTempDir('qrgate-e2e-lists-');
  const { start } = useQrgateProcesses();

  async function setUp(people: number): Promise<{ site: CentralSite; ids: string[]; terminalConfig: string }> {
    const dir = tempDir();
    const site = await createCentralSite(dir, await freePort(), { people: 1 });
    const ids = Array.from({ length: people }, (_, i) => sampleIdNumber(500_000 + i));
    const csv = join(dir, 'members.csv');
    writeMembers(csv, ids);
    await qrgate(['members', 'import', '--central-config', site.centralConfig, csv]);
    await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope]);
    const terminal = await site.addTerminal('gate-1', { lists: [scope] });
    return { site, ids, terminalConfig: terminal.config };
  }


  const publish = (site: CentralSite) => qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope]);

  it('installs the published list, takes each change as a delta within seconds, and catches up after being off', async () => {
    const { site, ids, terminalConfig } = await setUp(300);
    start(['central', '--config', site.centralConfig]);
    let terminal = start(['terminal', '--config', terminalConfig], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);
    expect(await scanOnce(terminal, ids[0]!)).toMatchObject({ decision: 'granted', reason: 'allowed', listVersion: 1 });
    expect(await scanOnce(terminal, sampleIdNumber(900_000))).toMatchObject({ decision: 'refused', reason: 'unknown' });

    await qrgate(['members', 'set-status', '--central-config', site.centralConfig, '--id-number', ids[0]!, '--status', 'deny']);
    await publish(site);
    const delta = await terminal.waitForLine((l) => l.msg === 'lists.applied' && l.version === 2, 30_000);
    expect(delta).toMatchObject({ kind: 'delta', entries: 300 });
    expect(await scanOnce(terminal, ids[0]!)).toMatchObject({ decision: 'refused', reason: 'denied', listVersion: 2 });

    // Off for two releases: it comes back and applies the two deltas it missed, in order.
    terminal.kill('SIGTERM');
    await terminal.exited;
    await qrgate(['members', 'remove', '--central-config', site.centralConfig, '--id-number', ids[1]!]);
    await publish(site);
    await qrgate(['members', 'set-status', '--central-config', site.centralConfig, '--id-number', ids[0]!, '--status', 'allow']);
    await publish(site);
    terminal = start(['terminal', '--config', terminalConfig], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 4, 60_000);
    expect(terminal.linesWith('lists.applied').map((l) => [l.kind, l.version, l.entries])).toEqual([
      ['delta', 3, 299],
      ['delta', 4, 299],
    ]);
    expect(await scanOnce(terminal, ids[1]!)).toMatchObject({ decision: 'refused', reason: 'unknown', listVersion: 4 });
    expect(await scanOnce(terminal, ids[0]!)).toMatchObject({ decision: 'granted', listVersion: 4 });
  });

  it('never decides on a mix of two versions while scans run during a sync', async () => {
    const { site, ids, terminalConfig } = await setUp(3000);
    start(['central', '--config', site.centralConfig]);
    const terminal = start(['terminal', '--config', terminalConfig], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);

    // One person flips between allow and deny on every release; scans of them run without a
    // pause while releases 2..5 are applied. Each decision must agree with the version it names.
    const flipper = ids[7]!;
    let typing = true;
    const decisions: LogLine[] = [];
    const typer = (async () => {
      while (typing) decisions.push(await scanOnce(terminal, flipper));
    })();
    for (let version = 2; version <= 5; version++) {
      const status = version % 2 === 0 ? 'deny' : 'allow';
      await qrgate(['members', 'set-status', '--central-config', site.centralConfig, '--id-number', flipper, '--status', status]);
      await publish(site);
      await terminal.waitForLine((l) => l.msg === 'lists.applied' && l.version === version, 30_000);
    }
    typing = false;
    await typer;

    const seen = new Set(decisions.map((d) => d.listVersion));
    expect(seen.size).toBeGreaterThanOrEqual(3); // the scans really ran across the releases
    for (const decision of decisions) {
      const allowed = (decision.listVersion as number) % 2 === 1;
      expect(decision).toMatchObject(allowed ? { decision: 'granted', reason: 'allowed' } : { decision: 'refused', reason: 'denied' });
    }
  });
});
