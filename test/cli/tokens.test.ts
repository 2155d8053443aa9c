import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliActor } from '../../broker/access/audit.js';
import type { Command } from '../../cli/command.js';
import { run as tokensCreate } from '../../cli/commands/tokensCreate.js';
import { run as tokensList } from '../../cli/commands/tokensList.js';
import { run as tokensRevoke } from '../../cli/commands/tokensRevoke.js';
import { useApi } from '../broker/api/apiHarness.js';
import { cliContext } from '../helpers/cliContext.js';

describe('qrgate tokens', () => {
  const startApi = useApi();

  async function site() {
    const api = await startApi();
    const centralConfig = join(dirname(api.config.dataDir), 'central.json');
    const run = async (command: Command, argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await command(ran.ctx);
      return { code, out: ran.out(), err: ran.err() };
    };
    const whoAmI = (token: string) => api.get('/api/session', { token });
    return { api, run, whoAmI };
  }

  it('create prints the token once; it works as Bearer until revoke, and never shows up in list or the audit log', async () => {
    const { api, run, whoAmI } = await site();
    const human = await run(tokensCreate, ['--name', 'Prometheus', '--role', 'inspector', '--read-only', '--expires-days', '90']);
    expect(human.code).toBe(0);
    const lines = human.out.split('\n');
    expect(lines[0]).toMatch(/^token [a-z0-9]{10} \("Prometheus"\) created: role inspector, read-only, expires \S+$/);
    const token = lines[2]!.trim();
    expect(token).toMatch(/^qrg_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    const tokenId = token.slice(4, 14);
    const answer = await whoAmI(token);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ kind: 'token', tokenId, role: 'inspector', readOnly: true });

    const listed = await run(tokensList, []);
    expect(listed.out).toContain(`${tokenId}  "Prometheus"  role inspector, read-only, created `);
    expect(listed.out).toMatch(/expires \S+, last used \S+\n/);
    const json = JSON.parse((await run(tokensList, ['--json'])).out) as { tokens: Record<string, unknown>[] };
    const mine = json.tokens.find((t) => t.tokenId === tokenId)!;
    expect(Object.keys(mine).sort()).toEqual(['checkpoints', 'createdAt', 'expiresAt', 'lastUsedAt', 'name', 'readOnly', 'revokedAt', 'role', 'tokenId', 'unit']);
    expect(JSON.stringify(json)).not.toContain(token.slice(15));

    expect((await run(tokensRevoke, ['--id', tokenId])).out).toMatch(new RegExp(`^token ${tokenId} \\("Prometheus"\\) revoked since \\S+\\n$`));
    expect((await whoAmI(token)).status).toBe(401);
    expect((await run(tokensList, [])).out).toContain(', REVOKED ');

    const rows = api.db.prepare<[], { actor: string; action: string; target: string; details: string; source: string }>("SELECT actor, action, target, details, source FROM audit_log WHERE action LIKE 'token.%' ORDER BY id").all();
    expect(rows.map((r) => [r.actor, r.action, r.target, r.source])).toEqual([
      [cliActor(), 'token.create', tokenId, 'cli'],
      [cliActor(), 'token.revoke', tokenId, 'cli'],
    ]);
    expect(JSON.parse(rows[0]!.details)).toMatchObject({ name: 'Prometheus', role: 'inspector', readOnly: true });
    expect(JSON.stringify([rows, api.log.lines, human.err])).not.toContain(token.slice(15));
    // createdBy names who made it, for the audit trail of the token itself.
    expect(api.db.prepare('SELECT created_by FROM api_tokens WHERE token_id = ?').pluck().get(tokenId)).toBe(cliActor());
  });

  it('--json answers the token with its settings; a manager token is scoped to its unit', async () => {
    const { run, whoAmI } = await site();
    const made = JSON.parse((await run(tokensCreate, ['--name', 'xuất CSV', '--role', 'manager', '--unit', 'Phường Phú Hội', '--json'])).out) as { token: string; unit: string; expiresAt: null };
    expect(made).toMatchObject({ name: 'xuất CSV', role: 'manager', unit: 'Phường Phú Hội', readOnly: false, expiresAt: null, revokedAt: null });
    expect(await (await whoAmI(made.token)).json()).toMatchObject({ role: 'manager', unit: 'Phường Phú Hội' });
  });

  it('refuses bad input by name and creates nothing', async () => {
    const { api, run } = await site();
    await expect(run(tokensCreate, ['--name', 'x', '--role', 'manager', '--expires-days', 'soon'])).rejects.toMatchObject({
      code: 'token-invalid',
      message: 'expires-days: expected a number of days above 0 and at most 3650; unit: a manager needs the unit it manages',
    });
    await expect(run(tokensCreate, ['--role', 'admin'])).rejects.toThrow('missing --name');
    await expect(run(tokensRevoke, ['--id', 'zzzzzzzzzz'])).rejects.toMatchObject({ code: 'token-unknown' });
    await expect(run(tokensRevoke, ['--id', 'BAD'])).rejects.toMatchObject({ code: 'token-invalid' });
    expect(api.db.prepare('SELECT count(*) FROM api_tokens').pluck().get()).toBe(1); // the harness's own admin token
    expect(api.db.prepare('SELECT count(*) FROM audit_log').pluck().get()).toBe(0);
  });
});
