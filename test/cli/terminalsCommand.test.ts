import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cliActor } from '../../broker/access/audit.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { run as checkpointsRetire } from '../../cli/commands/checkpointsRetire.js';
import { run as terminalsAdd } from '../../cli/commands/terminals.js';
import { run as terminalsCommand } from '../../cli/commands/terminalsCommand.js';
import { run as terminalsRemove } from '../../cli/commands/terminalsRemove.js';
import type { Command } from '../../cli/command.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * `qrgate terminals command` in-process, with no central running: what it refuses before
 * writing anything, what it queues and audits, and how an unanswered command ends. The
 * delivery itself, with real processes, is test/e2e/terminalCommands.test.ts.
 */
describe('qrgate terminals command', () => {
  const tempDir = useTempDir('qrgate-cli-command-');

  async function site() {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const run = async (command: Command, argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await command(ran.ctx);
      return { code, out: ran.out(), err: ran.err() };
    };
    const { code } = JSON.parse((await run(checkpointsCreate, ['--name', 'Cổng A', '--direction', 'in', '--confirm', 'auto', '--json'])).out) as { code: string };
    for (const id of ['gate-1', 'gate-2']) await run(terminalsAdd, ['--checkpoint', code, '--url', 'mqtt://10.0.0.5:1883', '--out', join(dir, `${id}.json`), '--terminal-id', id]);
    const auditRows = () => {
      const db = new Database(join(dir, 'central-data', 'central.db'), { readonly: true });
      try {
        return db.prepare("SELECT actor, target, details, source FROM audit_log WHERE action = 'terminal.command' ORDER BY id").all() as { actor: string; target: string; details: string; source: string }[];
      } finally {
        db.close();
      }
    };
    return { run, code, auditRows };
  }

  it('queues a command with --no-wait, prints its id, and records it in the audit log as the OS user', async () => {
    const { run, auditRows } = await site();
    const queued = await run(terminalsCommand, ['--terminal', 'gate-1', 'open', '--lane', 'in', '--reason', 'xe cứu thương', '--ttl', '90', '--no-wait', '--json']);
    expect(queued.code).toBe(0);
    const answer = JSON.parse(queued.out) as { id: string; issuedAt: string; expiresAt: string };
    expect(answer).toEqual({ id: expect.any(String), terminalId: 'gate-1', name: 'open', state: 'queued', issuedAt: expect.any(String), expiresAt: expect.any(String), attempts: 0 });
    expect(Date.parse(answer.expiresAt) - Date.parse(answer.issuedAt)).toBe(90_000);
    const text = await run(terminalsCommand, ['--terminal-id', 'gate-2', 'sync-lists', '--no-wait']);
    expect(text.out).toMatch(/^command [0-9a-f-]{36} \(sync-lists\) queued for terminal gate-2, expires \S+Z\n$/);
    expect(auditRows().map((row) => [row.actor, row.source, row.target, JSON.parse(row.details)])).toEqual([
      [cliActor(), 'cli', 'gate-1', { id: answer.id, name: 'open', expiresAt: answer.expiresAt, lane: 'in', reason: 'xe cứu thương' }],
      [cliActor(), 'cli', 'gate-2', { id: expect.any(String), name: 'sync-lists', expiresAt: expect.any(String) }],
    ]);
  });

  it('waits for an answer until the expiry and reports an undelivered command with exit 3', async () => {
    const { run } = await site();
    const expired = await run(terminalsCommand, ['--terminal', 'gate-1', 'ping', '--ttl', '1']);
    expect(expired.code).toBe(3);
    expect(expired.out).toMatch(/waiting for the terminal's answer\nping expired at \S+ undelivered: terminal gate-1 was not connected to a central\n$/);
  });

  it('refuses an unknown, removed or retired terminal, and what a terminal would refuse, writing nothing', async () => {
    const { run, code, auditRows } = await site();
    await expect(run(terminalsCommand, ['--terminal', 'gate-9', 'ping'])).rejects.toMatchObject({ code: 'terminal-unknown', message: 'terminal gate-9 is not registered at this central' });
    await run(terminalsRemove, ['--terminal-id', 'gate-2']);
    await expect(run(terminalsCommand, ['--terminal', 'gate-2', 'open'])).rejects.toMatchObject({ code: 'terminal-removed', message: expect.stringContaining('terminal gate-2 was removed') });
    const usage = async (argv: string[], message: string | RegExp) => expect(run(terminalsCommand, argv)).rejects.toMatchObject({ code: 'usage', message });
    await usage(['--terminal', 'gate-1', 'confirm'], /unknown command "confirm": one of open, ping, sync-lists/);
    await usage(['--terminal', 'gate-1'], /missing the command/);
    await usage(['--terminal', 'gate-1', 'open', 'ping'], /one command at a time/);
    await usage(['--terminal', 'gate-1', 'ping', '--lane', 'in'], '--lane goes with open only');
    await usage(['--terminal', 'gate-1', 'open', '--ttl', '601'], /--ttl for open is 1 to 600 seconds/);
    await usage(['--terminal', 'gate-1', 'open', '--ttl', '0'], /--ttl must be a whole number of at least 1/);
    await usage(['--terminal', 'gate-1', 'open', '--reason', ' '], /a reason has 1 to 200 characters/);
    await usage(['--terminal', 'gate-1', '--terminal-id', 'gate-1', 'open'], /not both/);
    await usage(['--terminal', 'gate-1', 'open', '--wait', '--no-wait'], /not both/);
    await usage(['open'], /missing --terminal-id/);
    await run(checkpointsRetire, ['--code', code]);
    await expect(run(terminalsCommand, ['--terminal', 'gate-1', 'ping'])).rejects.toMatchObject({ code: 'checkpoint-retired' });
    expect(auditRows()).toEqual([]);
  });
});
