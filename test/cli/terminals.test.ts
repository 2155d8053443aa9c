import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySecret } from '../../broker/auth/secrets.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { UsageError, type Command } from '../../cli/command.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { run as terminalsAdd } from '../../cli/commands/terminals.js';
import { run as terminalsRemove } from '../../cli/commands/terminalsRemove.js';
import { run as terminalsRotateSecret } from '../../cli/commands/terminalsRotateSecret.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-cli-terminals-');

describe('qrgate terminals rotate-secret and remove', () => {
  async function site() {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const config = loadCentralConfig(centralConfig);
    const run = async (command: Command, argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await command(ran.ctx);
      return { code, out: ran.out(), err: ran.err() };
    };
    const { code } = JSON.parse((await run(checkpointsCreate, ['--name', 'Cổng A', '--direction', 'in', '--confirm', 'auto', '--json'])).out) as { code: string };
    const add = async (terminalId: string) => {
      const file = join(dir, `${terminalId}.json`);
      await run(terminalsAdd, ['--checkpoint', code, '--url', 'mqtt://127.0.0.1:1883', '--out', file, '--terminal-id', terminalId]);
      return file;
    };
    const credentials = (terminalId: string) => withCentralStore(config, { logger: silentLogger() }, (store) => store.getTerminalCredentials(terminalId));
    return { dir, run, add, credentials };
  }

  it('prints a new secret once with the field to change; the old one no longer verifies', async () => {
    const s = await site();
    const file = await s.add('gate-1');
    const old = JSON.parse(readFileSync(file, 'utf8')).central.password as string;
    const human = await s.run(terminalsRotateSecret, ['--terminal-id', 'gate-1']);
    const lines = human.out.split('\n');
    expect(lines[0]).toBe('terminal gate-1: secret rotated; the old one is refused from now on and a running central disconnects it');
    const secret = lines[2]!.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(lines[3]).toContain('set "central.password" in its config');
    const stored = (await s.credentials('gate-1'))!;
    expect(await verifySecret(secret, stored.secretHash)).toBe(true);
    expect(await verifySecret(old, stored.secretHash)).toBe(false);
    expect(readFileSync(file, 'utf8')).toContain(old); // the file was not asked for, so it is left alone

    const json = JSON.parse((await s.run(terminalsRotateSecret, ['--terminal-id', 'gate-1', '--json'])).out) as { password: string };
    expect(await verifySecret(json.password, (await s.credentials('gate-1'))!.secretHash)).toBe(true);
  });

  it('with --config writes the new secret into that terminal config only, keeping everything else, mode 0600', async () => {
    const s = await site();
    const file = await s.add('gate-1');
    const before = JSON.parse(readFileSync(file, 'utf8'));
    before.lanes[0].scanner = { type: 'serial', path: '/dev/qrgate-scanner', baudRate: 9600 }; // the real hardware, set up on site
    writeFileSync(file, JSON.stringify(before));
    const rotated = await s.run(terminalsRotateSecret, ['--terminal-id', 'gate-1', '--config', file, '--json']);
    expect(JSON.parse(rotated.out)).toEqual({ terminalId: 'gate-1', config: file });
    const after = JSON.parse(readFileSync(file, 'utf8'));
    expect(after).toEqual({ ...before, central: { ...before.central, password: expect.any(String) } });
    expect(after.central.password).not.toBe(before.central.password);
    expect(await verifySecret(after.central.password, (await s.credentials('gate-1'))!.secretHash)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(rotated.out).not.toContain(after.central.password);

    // Another terminal's config is refused before anything changes.
    const other = await s.add('gate-2');
    const hash = (await s.credentials('gate-1'))!.secretHash;
    await expect(s.run(terminalsRotateSecret, ['--terminal-id', 'gate-1', '--config', other])).rejects.toMatchObject({ code: 'invalid-config' });
    await expect(s.run(terminalsRotateSecret, ['--terminal-id', 'gate-1', '--config', join(s.dir, 'missing.json')])).rejects.toMatchObject({ code: 'invalid-config' });
    expect((await s.credentials('gate-1'))!.secretHash).toBe(hash);
  });

  it('removes a terminal once; a removed or unknown terminal cannot be rotated or removed', async () => {
    const s = await site();
    await s.add('gate-1');
    expect((await s.run(terminalsRemove, ['--terminal-id', 'gate-1'])).out).toBe('terminal gate-1 removed: refused and disconnected from now on\n');
    expect((await s.credentials('gate-1'))?.removedAt).toEqual(expect.any(String));
    await expect(s.run(terminalsRemove, ['--terminal-id', 'gate-1'])).rejects.toMatchObject({ code: 'terminal-removed' });
    await expect(s.run(terminalsRotateSecret, ['--terminal-id', 'gate-1'])).rejects.toMatchObject({ code: 'terminal-removed' });
    await expect(s.run(terminalsRemove, ['--terminal-id', 'nobody'])).rejects.toMatchObject({ code: 'terminal-unknown' });
    await expect(s.run(terminalsRotateSecret, ['--terminal-id', 'bad id!'])).rejects.toMatchObject({ code: 'invalid-terminal-id' });
    await expect(s.run(terminalsRemove, [])).rejects.toThrow(new UsageError('missing --terminal-id'));
    await s.add('gate-2');
    expect(JSON.parse((await s.run(terminalsRemove, ['--terminal-id', 'gate-2', '--json'])).out)).toEqual({ terminalId: 'gate-2', removed: true });
  });
});
