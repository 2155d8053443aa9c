import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTerminalConfig } from '../../../gateway/config.js';
import { stateChecks } from '../../../gateway/doctor/stateChecks.js';
import { importListFile } from '../../../gateway/listImport.js';
import { createDemoSite } from '../../../provisioning/demoSite.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

const HOUR = 3_600_000;

describe('doctor: clock, lists, disk and outbox', () => {
  const tempDir = useTempDir();

  function site() {
    const dir = tempDir();
    const { configFile } = createDemoSite(dir);
    const config = loadTerminalConfig(configFile);
    const install = (version: number, issuedAtMs: number, expiresAtMs: number) =>
      importListFile(
        config,
        writeList(join(dir, 'keys'), join(dir, `v${version}.qgl`), {
          scope: 'demo-site',
          version,
          issuedAt: new Date(issuedAtMs).toISOString(),
          expiresAt: new Date(expiresAtMs).toISOString(),
        }, [{ ref: sequentialRef(1), status: 'allow' }]),
      );
    return { config, install };
  }

  const byCheck = (results: ReturnType<typeof stateChecks>) => Object.fromEntries(results.map((r) => [r.check, r]));

  it('passes a fresh list, a synchronised clock, room on disk and an empty outbox', () => {
    const { config, install } = site();
    const now = Date.now();
    install(3, now - 2 * HOUR, now + 10 * 24 * HOUR);
    const r = byCheck(stateChecks(config, { nowMs: now, clockSynced: () => true, freeBytes: () => 5e9 }));
    expect(r.clock).toMatchObject({ status: 'PASS' });
    expect(r['list demo-site']).toMatchObject({ status: 'PASS', detail: 'version 3, issued 2 h ago, 1 entries, expires in 10 d' });
    expect(r.disk).toMatchObject({ status: 'PASS' });
    expect(r.outbox).toMatchObject({ status: 'PASS' });
  });

  it('fails an expired list, an unsynchronised clock and a nearly full disk, and skips a clock it cannot read', () => {
    const { config, install } = site();
    // Installed while valid (an expired list is refused at import), then looked at 39 h later.
    const installedAt = Date.now();
    install(4, installedAt - HOUR, installedAt + 36 * HOUR);
    const now = installedAt + 39 * HOUR;
    const r = byCheck(stateChecks(config, { nowMs: now, clockSynced: () => false, freeBytes: () => 50 * 1024 * 1024 }));
    expect(r['list demo-site']).toMatchObject({ status: 'FAIL', detail: 'version 4, issued 40 h ago, EXPIRED 3 h ago' });
    expect(r.clock).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('timedatectl') });
    expect(r.disk).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('at least 200 MB') });
    expect(byCheck(stateChecks(config, { nowMs: now, clockSynced: () => null })).clock).toMatchObject({ status: 'SKIP' });
  });
});
