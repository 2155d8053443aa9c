import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig } from '../../broker/config.js';
import { mosquittoHashesFileName } from '../../broker/mosquitto/hashLedger.js';
import type { MosquittoConfigResult } from '../../broker/mosquitto/mosquittoConfig.js';
import { verifyMosquittoHash } from '../../broker/mosquitto/passwordHash.js';
import { UsageError, type Command } from '../../cli/command.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { run as mosquittoConfig } from '../../cli/commands/mosquittoConfig.js';
import { run as terminalsAdd } from '../../cli/commands/terminals.js';
import { run as terminalsRemove } from '../../cli/commands/terminalsRemove.js';
import { run as terminalsRotateSecret } from '../../cli/commands/terminalsRotateSecret.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-cli-mosquitto-');

/** `user` -> hash, from a Mosquitto password file. */
function passwords(file: string): Map<string, string> {
  return new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/:(.*)/s).slice(0, 2) as [string, string]),
  );
}

const secretOf = (configFile: string): string => (JSON.parse(readFileSync(configFile, 'utf8')) as { central: { password: string } }).central.password;

describe('qrgate mosquitto-config', () => {
  async function site(mosquitto?: { out: string }) {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir, mosquitto ? { mosquitto } : {});
    const run = async (command: Command, argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await command(ran.ctx);
      return { code, out: ran.out(), err: ran.err() };
    };
    const { code } = JSON.parse((await run(checkpointsCreate, ['--name', 'Cổng A', '--direction', 'in', '--confirm', 'auto', '--json'])).out) as { code: string };
    const add = async (terminalId: string) => {
      const file = join(dir, `${terminalId}.json`);
      const added = await run(terminalsAdd, ['--checkpoint', code, '--url', 'mqtt://127.0.0.1:1883', '--out', file, '--terminal-id', terminalId, '--lists', 'site-a']);
      expect(added.code).toBe(0);
      return { file, err: added.err };
    };
    return { dir, code, run, add, dataDir: loadCentralConfig(centralConfig).dataDir };
  }

  it('writes each terminal with the hash of the secret in its config, the central account, and a conf fragment naming both files', async () => {
    const s = await site();
    const a = await s.add('gate-a');
    const b = await s.add('gate-b');
    const out = join(s.dir, 'mosquitto');
    const ran = await s.run(mosquittoConfig, ['--out', out, '--json']);
    expect(ran.code).toBe(0);
    const result = JSON.parse(ran.out) as MosquittoConfigResult;
    expect(result).toMatchObject({ terminals: 2, needRotation: [], anyScope: [], centralUsername: 'qrgate-ingest' });
    const users = passwords(result.passwordFile);
    expect([...users.keys()]).toEqual(['qrgate-ingest', 'gate-a', 'gate-b']);
    expect(await verifyMosquittoHash(secretOf(a.file), users.get('gate-a')!)).toBe(true);
    expect(await verifyMosquittoHash(secretOf(b.file), users.get('gate-a')!)).toBe(false);
    expect(await verifyMosquittoHash(secretOf(b.file), users.get('gate-b')!)).toBe(true);
    expect(await verifyMosquittoHash(readFileSync(result.centralPasswordFile!, 'utf8').trim(), users.get('qrgate-ingest')!)).toBe(true);
    for (const file of [result.passwordFile, result.centralPasswordFile!, join(s.dataDir, mosquittoHashesFileName)]) expect(statSync(file).mode & 0o777).toBe(0o600);
    const acl = readFileSync(result.aclFile, 'utf8');
    expect(acl).toContain(`user gate-a\ntopic write qrgate/v1/cp/${s.code}/t/gate-a/events\n`);
    expect(acl).toContain('topic read qrgate/v1/lists/site-a/#\ntopic deny qrgate/v1/lists/site-a\n');
    const conf = readFileSync(result.confFile, 'utf8');
    for (const line of ['per_listener_settings false', 'allow_anonymous false', `password_file ${result.passwordFile}`, `acl_file ${result.aclFile}`]) {
      expect(conf.split('\n')).toContain(line);
    }

    // A rerun keeps the central password (the worker holds it) unless asked for a new one.
    const again = JSON.parse((await s.run(mosquittoConfig, ['--out', out, '--json'])).out) as MosquittoConfigResult;
    expect(again.centralPasswordFile).toBeNull();
    expect(passwords(again.passwordFile).get('qrgate-ingest')).toBe(users.get('qrgate-ingest'));
    const renewed = JSON.parse((await s.run(mosquittoConfig, ['--out', out, '--new-central-password', '--json'])).out) as MosquittoConfigResult;
    expect(passwords(renewed.passwordFile).get('qrgate-ingest')).not.toBe(users.get('qrgate-ingest'));
  });

  it('leaves out, and names, a terminal whose current secret has no Mosquitto hash here', async () => {
    const s = await site();
    await s.add('gate-a');
    rmSync(join(s.dataDir, mosquittoHashesFileName)); // as a terminal added before this build
    await s.add('gate-b');
    const ran = await s.run(mosquittoConfig, ['--out', join(s.dir, 'mosquitto')]);
    expect(ran.code).toBe(0);
    expect(ran.out).toContain('NOT written, refused by Mosquitto until their secret is rotated');
    expect(ran.out).toContain('  gate-a\n');
    expect([...passwords(join(s.dir, 'mosquitto', 'passwd')).keys()]).toEqual(['qrgate-ingest', 'gate-b']);
    expect(readFileSync(join(s.dir, 'mosquitto', 'acl'), 'utf8')).not.toContain('gate-a');

    const rotated = JSON.parse((await s.run(terminalsRotateSecret, ['--terminal-id', 'gate-a', '--json'])).out) as { password: string };
    const result = JSON.parse((await s.run(mosquittoConfig, ['--out', join(s.dir, 'mosquitto'), '--json'])).out) as MosquittoConfigResult;
    expect(result.needRotation).toEqual([]);
    expect(await verifyMosquittoHash(rotated.password, passwords(result.passwordFile).get('gate-a')!)).toBe(true);
  });

  it('with mosquitto.out in the central config, terminals add, rotate-secret and remove rewrite the files', async () => {
    const s = await site({ out: 'mosquitto' });
    const out = join(s.dir, 'mosquitto');
    const a = await s.add('gate-a');
    expect(a.err).toContain(`mosquitto files rewritten in ${out}`);
    expect(a.err).toContain('reload Mosquitto');
    await s.add('gate-b');
    expect(await verifyMosquittoHash(secretOf(a.file), passwords(join(out, 'passwd')).get('gate-a')!)).toBe(true);

    const rotated = await s.run(terminalsRotateSecret, ['--terminal-id', 'gate-b', '--json']);
    expect(rotated.code).toBe(0);
    const { password } = JSON.parse(rotated.out) as { password: string };
    expect(await verifyMosquittoHash(password, passwords(join(out, 'passwd')).get('gate-b')!)).toBe(true);

    expect((await s.run(terminalsRemove, ['--terminal-id', 'gate-a'])).code).toBe(0);
    expect([...passwords(join(out, 'passwd')).keys()]).toEqual(['qrgate-ingest', 'gate-b']);
    expect(readFileSync(join(out, 'acl'), 'utf8')).not.toContain('gate-a');
    // The config's folder, so --out may be left out.
    expect((await s.run(mosquittoConfig, [])).code).toBe(0);
  });

  it('asks for --out when the central config names no folder', async () => {
    const s = await site();
    await expect(s.run(mosquittoConfig, [])).rejects.toThrow(UsageError);
  });
});
