import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cliActor } from '../../broker/access/audit.js';
import type { Command } from '../../cli/command.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { run as checkpointsRetire } from '../../cli/commands/checkpointsRetire.js';
import { run as checkpointsUpdate } from '../../cli/commands/checkpointsUpdate.js';
import { run as terminalsAdd } from '../../cli/commands/terminals.js';
import { run as enrollQr } from '../../cli/commands/terminalsEnrollQr.js';
import { run as terminalsRemove } from '../../cli/commands/terminalsRemove.js';
import { run as rotateSecret } from '../../cli/commands/terminalsRotateSecret.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-cli-audited-');

describe('the checkpoint and terminal commands record their changes in the audit log', () => {
  it('as cli:<user> from cli, with settings but never a secret or a QR text; a refused change records nothing', async () => {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const run = async (command: Command, argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      expect(await command(ran.ctx)).toBe(0);
      return ran.out();
    };
    const { code } = JSON.parse(await run(checkpointsCreate, ['--name', 'Cổng A', '--direction', 'in', '--confirm', 'auto', '--unit', 'Công ty May Huế', '--json'])) as { code: string };
    await run(checkpointsUpdate, ['--code', code, '--name', 'Cổng chính', '--confirm', 'manual']);
    const file = join(dir, 'gate-1.json');
    await run(terminalsAdd, ['--checkpoint', code, '--url', 'mqtt://10.0.0.5:1883', '--out', file, '--terminal-id', 'gate-1']);
    const added = JSON.parse(readFileSync(file, 'utf8')).central.password as string;
    const rotated = (JSON.parse(await run(rotateSecret, ['--terminal-id', 'gate-1', '--json'])) as { password: string }).password;
    await run(rotateSecret, ['--terminal-id', 'gate-1', '--config', file]);
    const written = JSON.parse(readFileSync(file, 'utf8')).central.password as string;
    const { payload } = JSON.parse(await run(enrollQr, ['--checkpoint', code, '--url', 'mqtt://10.0.0.5:1883', '--out', join(dir, 'qr.svg'), '--lists', 'default,staff', '--json'])) as { payload: string };
    await run(terminalsRemove, ['--terminal-id', 'gate-1']);
    await expect(run(terminalsRemove, ['--terminal-id', 'gate-1'])).rejects.toMatchObject({ code: 'terminal-removed' });
    await run(checkpointsRetire, ['--code', code]);

    const db = new Database(join(dir, 'central-data', 'central.db'), { readonly: true });
    const rows = db.prepare('SELECT actor, action, target, details, source FROM audit_log ORDER BY id').all() as { actor: string; action: string; target: string; details: string; source: string }[];
    db.close();
    expect(rows.every((row) => row.actor === cliActor() && row.source === 'cli')).toBe(true);
    expect(rows.map((row) => [row.action, row.target, JSON.parse(row.details)])).toEqual([
      ['checkpoint.create', code, { name: 'Cổng A', unit: 'Công ty May Huế', direction: 'in', confirm: 'auto', latitude: null, longitude: null, branch: false }],
      ['checkpoint.update', code, { changed: { name: ['Cổng A', 'Cổng chính'], confirm: ['auto', 'manual'] } }],
      ['terminal.add', 'gate-1', { checkpoint: code }],
      ['terminal.rotate-secret', 'gate-1', { writtenToConfig: false }],
      ['terminal.rotate-secret', 'gate-1', { writtenToConfig: true }],
      ['terminal.enroll-qr', code, { expiresAt: expect.any(String), lists: ['default', 'staff'] }],
      ['terminal.remove', 'gate-1', {}],
      ['checkpoint.retire', code, { name: 'Cổng chính' }],
    ]);
    const text = JSON.stringify(rows);
    for (const secret of [added, rotated, written, payload]) expect(text).not.toContain(secret);
  });
});
