import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cliActor } from '../../broker/access/audit.js';
import { UsageError, type Command } from '../../cli/command.js';
import { run as usersAdd } from '../../cli/commands/usersAdd.js';
import { run as usersDisable } from '../../cli/commands/usersDisable.js';
import { run as usersList } from '../../cli/commands/usersList.js';
import { run as usersRemove } from '../../cli/commands/usersRemove.js';
import { run as usersSetPassword } from '../../cli/commands/usersSetPassword.js';
import { useApi, type Api } from '../broker/api/apiHarness.js';
import { CP_A } from '../broker/store/scanEvents.js';
import { cliContext } from '../helpers/cliContext.js';

describe('qrgate users', () => {
  const startApi = useApi();

  /** A running central's API, and its users commands run in-process against the same central folder. */
  async function site() {
    const api = await startApi();
    const centralConfig = join(dirname(api.config.dataDir), 'central.json');
    const run = async (command: Command, argv: string[], stdin?: string) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const input = new PassThrough();
      if (stdin !== undefined) input.end(stdin);
      const code = await command({ ...ran.ctx, stdin: input });
      return { code, out: ran.out(), err: ran.err() };
    };
    const login = async (username: string, password: string) =>
      (await fetch(`${api.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })).status;
    return { api, run, login };
  }

  const audit = (api: Api) => api.db.prepare<[], { actor: string; action: string; target: string; details: string; source: string }>('SELECT actor, action, target, details, source FROM audit_log ORDER BY id').all();

  it('add without --password-stdin shows a generated password once, and it logs in on a real server', async () => {
    const { api, run, login } = await site();
    const human = await run(usersAdd, ['--username', 'lan', '--role', 'manager', '--unit', 'Công ty May Huế']);
    expect(human.code).toBe(0);
    const lines = human.out.split('\n');
    expect(lines[0]).toBe('user lan added: role manager, unit "Công ty May Huế"');
    expect(lines[1]).toBe('password, shown this once and stored nowhere (the central keeps only its hash):');
    const password = lines[2]!.trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await login('lan', password)).toBe(200);

    const json = await run(usersAdd, ['--username', 'binh', '--role', 'admin', '--json']);
    const answer = JSON.parse(json.out) as { user: { username: string; role: string }; password: string };
    expect(answer.user).toMatchObject({ username: 'binh', role: 'admin', unit: null, checkpoints: [], disabledAt: null });
    expect(await login('binh', answer.password)).toBe(200);

    // Neither password is in the audit table, the central's log lines or the command's stderr.
    const everything = JSON.stringify([audit(api), api.log.lines, human.err, json.err]);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(answer.password);
    expect(audit(api).filter((e) => e.action === 'user.add')).toEqual([
      { actor: cliActor(), action: 'user.add', target: 'lan', details: JSON.stringify({ role: 'manager', unit: 'Công ty May Huế', passwordGenerated: true }), source: 'cli' },
      { actor: cliActor(), action: 'user.add', target: 'binh', details: JSON.stringify({ role: 'admin', passwordGenerated: true }), source: 'cli' },
    ]);
  });

  it('--password-stdin takes one piped line (CRLF or not), prints no password, and refuses a weak or missing one', async () => {
    const { api, run, login } = await site();
    const added = await run(usersAdd, ['--username', 'hoa', '--role', 'inspector', '--password-stdin', '--json'], 'một mật khẩu dài\r\nignored\n');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.out)).not.toHaveProperty('password');
    expect(await login('hoa', 'một mật khẩu dài')).toBe(200);
    await expect(run(usersAdd, ['--username', 'short', '--role', 'inspector', '--password-stdin'], 'short\n')).rejects.toMatchObject({
      code: 'password-weak',
      message: 'the password has 5 characters; at least 12 are needed',
    });
    await expect(run(usersAdd, ['--username', 'none', '--role', 'inspector', '--password-stdin'], '')).rejects.toBeInstanceOf(UsageError);
    expect(JSON.stringify([audit(api), api.log.lines])).not.toContain('một mật khẩu dài');
  });

  it('refuses a bad role or scope by name, and a user who exists', async () => {
    const { api, run } = await site();
    await expect(run(usersAdd, ['--username', 'lan', '--role', 'manager'])).rejects.toMatchObject({ code: 'role-scope-invalid', message: 'unit: a manager needs the unit it manages' });
    await expect(run(usersAdd, ['--username', 'lan', '--role', 'guard', '--checkpoint', CP_A])).rejects.toMatchObject({ code: 'checkpoint-unknown' });
    await expect(run(usersAdd, ['--username', 'lan'])).rejects.toThrow('missing --role');
    await run(usersAdd, ['--username', 'lan', '--role', 'inspector']);
    await expect(run(usersAdd, ['--username', 'lan', '--role', 'inspector'])).rejects.toMatchObject({ code: 'user-exists' });
    expect(audit(api).map((e) => e.action)).toEqual(['user.add']);
  });

  it('list, set-password (ends sessions), disable and remove, each recorded', async () => {
    const { api, run, login } = await site();
    await run(usersAdd, ['--username', 'lan', '--role', 'inspector', '--password-stdin'], 'mật khẩu ban đầu\n');
    await api.store.createCheckpoint({ code: CP_A, name: 'Cổng A', direction: 'in', confirm: 'auto' });
    await run(usersAdd, ['--username', 'binh', '--role', 'guard', '--checkpoint', ` ${CP_A},`]);
    expect((await run(usersList, [])).out).toMatch(new RegExp(`^binh  role guard, checkpoints ${CP_A}, created \\S+\\nlan  role inspector, created \\S+\\n$`));

    const changed = JSON.parse((await run(usersSetPassword, ['--username', 'lan', '--json'])).out) as { username: string; password: string };
    expect(await login('lan', 'mật khẩu ban đầu')).toBe(401);
    expect(await login('lan', changed.password)).toBe(200);
    expect((await run(usersSetPassword, ['--username', 'lan', '--password-stdin'], 'mật khẩu thứ hai\n')).out).toBe('user lan: password changed; every session they had is ended\n');

    expect((await run(usersDisable, ['--username', 'lan'])).out).toMatch(/^user lan disabled since \S+: cannot log in, sessions ended\n$/);
    expect(await login('lan', 'mật khẩu thứ hai')).toBe(401);
    expect((await run(usersList, [])).out).toContain(', DISABLED ');
    expect((await run(usersRemove, ['--username', 'lan'])).out).toBe('user lan removed\n');
    await expect(run(usersRemove, ['--username', 'lan'])).rejects.toMatchObject({ code: 'user-unknown' });
    expect((JSON.parse((await run(usersList, ['--json'])).out) as { users: { username: string }[] }).users.map((u) => u.username)).toEqual(['binh']);

    // The logins in between are recorded too, as `user:lan` from its address.
    expect(audit(api).filter((e) => e.source === 'cli').map((e) => [e.actor, e.action, e.target, e.source])).toEqual([
      [cliActor(), 'user.add', 'lan', 'cli'],
      [cliActor(), 'user.add', 'binh', 'cli'],
      [cliActor(), 'user.set-password', 'lan', 'cli'],
      [cliActor(), 'user.set-password', 'lan', 'cli'],
      [cliActor(), 'user.disable', 'lan', 'cli'],
      [cliActor(), 'user.remove', 'lan', 'cli'],
    ]);
    expect(JSON.stringify(audit(api))).not.toMatch(new RegExp(`${changed.password}|mật khẩu`));
  });
});
