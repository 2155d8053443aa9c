import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sampleIdNumber } from '../../provisioning/samplePeople.js';
import { createCentralSite, qrgate, type CentralSite } from '../helpers/centralSite.js';
import { addConsoleUser } from '../helpers/consoleUsers.js';
import { expectExactlyOnce, outboxDepth, scanOnce, typeScans } from '../helpers/delivery.js';
import { freePort } from '../helpers/freePort.js';
import { usePostgresDatabase } from '../helpers/postgres.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * A whole central on PostgreSQL (issue 15 point 4), with real processes: `qrgate central`
 * and its CLI on the machine's PostgreSQL, a terminal on its keyboard lane. The registry
 * (members, lists, console accounts) and the events both live in the database: nothing of
 * the site's data is in the central's dataDir but the signed list files.
 */

const scope = 'site-a';

describe('a central on PostgreSQL', () => {
  const tempDir = useTempDir('qrgate-e2e-pg-');
  const database = usePostgresDatabase();
  const { start, track } = useQrgateProcesses();

  async function site(people = 1): Promise<CentralSite> {
    return createCentralSite(tempDir(), await freePort(), { people, store: { type: 'postgres', url: database.url(), schema: database.newSchema() } });
  }


  it('takes members, publishes their list to a terminal, and serves the console from the database', async () => {
    const s = await site();
    const ids = Array.from({ length: 200 }, (_, i) => sampleIdNumber(700_000 + i));
    const csv = join(s.dir, 'members.csv');
    writeFileSync(csv, `name,phone,address,unit,scope,idNumber,status\n${ids.map((id, i) => `"Trần Thị Ánh ${i}",0905 000 ${i},"3 Lý Thường Kiệt, Huế",Xưởng 1,${scope},${id},allow`).join('\n')}\n`);
    await qrgate(['members', 'import', '--central-config', s.centralConfig, csv]);
    await qrgate(['lists', 'publish', '--central-config', s.centralConfig, '--scope', scope]);
    const admin = await addConsoleUser(s.centralConfig, 'lan', 'admin');
    const gate = await s.addTerminal('gate-1', { lists: [scope] });

    const central = await s.startCentral();
    track(central.proc);
    const terminal = start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);
    expect(await scanOnce(terminal, ids[3]!)).toMatchObject({ decision: 'granted', reason: 'allowed', listVersion: 1 });

    await qrgate(['members', 'set-status', '--central-config', s.centralConfig, '--id-number', ids[3]!, '--status', 'deny']);
    await qrgate(['lists', 'publish', '--central-config', s.centralConfig, '--scope', scope]);
    await terminal.waitForLine((l) => l.msg === 'lists.applied' && l.version === 2, 30_000);
    expect(await scanOnce(terminal, ids[3]!)).toMatchObject({ decision: 'refused', reason: 'denied', listVersion: 2 });

    // The console's account, made by the CLI, logs in to the running central and reads the registry.
    const login = await fetch(`http://127.0.0.1:${central.httpPort}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: admin.username, password: admin.password }),
    });
    expect(login.status).toBe(200);
    const members = (await (
      await fetch(`http://127.0.0.1:${central.httpPort}/api/members?q=${encodeURIComponent('Trần Thị Ánh 199')}`, { headers: { authorization: `Bearer ${central.api.token}` } })
    ).json()) as { members: Array<{ name: string; idMasked: string }> };
    expect(members.members.map((m) => m.name)).toEqual(['Trần Thị Ánh 199']);
  });

  it('keeps running when PostgreSQL ends its connections: says so, and the next scans and console reads go through', async () => {
    const s = await site(20);
    const gate = await s.addTerminal('gate-1', { batchSize: 5 });
    const central = await s.startCentral();
    track(central.proc);
    let stopped = false;
    void central.proc.exited.then(() => (stopped = true));
    const terminal = start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    let decided = await typeScans(terminal, s, 20, 0);
    await waitFor(() => outboxDepth(join(s.dir, 'gate-1-data')) === 0, 60_000, 'outbox drained', 100);
    const readMembers = () => fetch(`http://127.0.0.1:${central.httpPort}/api/members?q=x`, { headers: { authorization: `Bearer ${central.api.token}` } });
    // Both pools now hold an idle connection (the pool closes one idle for 10 s): the store's
    // from the commits just made, the registry's from this read.
    expect((await readMembers()).status).toBe(200);

    // What a server restart or an administrator does to every session of the central.
    const admin = new pg.Client({ connectionString: database.url() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'qrgate-central'`,
      );
      expect(rows.filter((r) => r.ended).length).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.end();
    }
    await central.proc.waitForLine((l) => l.msg === 'store.connection-lost');
    await central.proc.waitForLine((l) => l.msg === 'registry.connection-lost');

    expect((await readMembers()).status).toBe(200);
    decided = await typeScans(terminal, s, 20, decided);
    await waitFor(() => outboxDepth(join(s.dir, 'gate-1-data')) === 0, 60_000, 'outbox drained after the connections were ended', 100);
    await expectExactlyOnce(central.api, gate.terminalId, decided);
    expect(stopped).toBe(false);
  });

  it('stores every decided event exactly once while the central is killed with SIGKILL, 3 times', async () => {
    const s = await site(50);
    const gate = await s.addTerminal('gate-1', { batchSize: 20 });
    const terminal = start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    let decided = await typeScans(terminal, s, 300, 0);
    for (let round = 0; round < 3; round++) {
      const central = await s.startCentral();
      track(central.proc);
      decided = await typeScans(terminal, s, 30, decided);
      await new Promise((r) => setTimeout(r, 40 + round * 60));
      central.proc.kill('SIGKILL');
      await central.proc.exited;
    }
    const central = await s.startCentral();
    track(central.proc);
    await waitFor(() => outboxDepth(join(s.dir, 'gate-1-data')) === 0, 60_000, 'outbox drained', 100);
    await expectExactlyOnce(central.api, gate.terminalId, decided);
  });
});
