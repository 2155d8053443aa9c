import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cliActor, searchAudit } from '../../broker/access/audit.js';
import { checkLogin } from '../../broker/access/users.js';
import { loadCentralConfig, type CentralConfig } from '../../broker/config.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import type { Command } from '../../cli/command.js';
import { run as tokensCreate } from '../../cli/commands/tokensCreate.js';
import { run as tokensList } from '../../cli/commands/tokensList.js';
import { run as tokensRevoke } from '../../cli/commands/tokensRevoke.js';
import { run as usersAdd } from '../../cli/commands/usersAdd.js';
import { run as usersDisable } from '../../cli/commands/usersDisable.js';
import { run as usersList } from '../../cli/commands/usersList.js';
import { run as usersRemove } from '../../cli/commands/usersRemove.js';
import { run as usersSetPassword } from '../../cli/commands/usersSetPassword.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { CP_A } from '../broker/store/scanEvents.js';
import { cliContext } from '../helpers/cliContext.js';
import { usePostgresDatabase } from '../helpers/postgres.js';
import { registryEngines } from '../helpers/registryEngines.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * `qrgate users …` and `tokens …` on a central whose registry is SQLite or PostgreSQL
 * (issue 15 point 4): the same commands, the same answers, the same audit entries. The
 * finer points of each command are in users.test.ts and tokens.test.ts (SQLite, against a
 * running API).
 */
describe('qrgate users and tokens on each registry engine', () => {
  const database = usePostgresDatabase();
  const tempDir = useTempDir('qrgate-cli-engines-');

  for (const engine of registryEngines) {
    it(`adds, lists, changes, disables and removes users and tokens, each audited as the CLI (${engine})`, async () => {
      const file = writeLocalCentral(tempDir(), engine === 'postgres' ? { store: { type: 'postgres', url: database.url() } } : {});
      const config: CentralConfig = loadCentralConfig(file);
      expect(await withRegistry(config, async (db) => db.dialect)).toBe(engine);
      // A guard's checkpoint must be registered, as `checkpoints create` would have.
      await withRegistry(config, (db) => db.run(`INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, 'Cổng A', 'both', 'auto', 0)`, [CP_A]));
      const run = async (command: Command, argv: string[], stdin?: string) => {
        const ran = cliContext(['--central-config', file, ...argv]);
        const input = new PassThrough();
        if (stdin !== undefined) input.end(stdin);
        const code = await command({ ...ran.ctx, stdin: input });
        expect({ code, err: ran.err() }).toEqual({ code: 0, err: '' });
        return ran.out();
      };
      const json = async <T>(command: Command, argv: string[], stdin?: string): Promise<T> => JSON.parse(await run(command, [...argv, '--json'], stdin)) as T;

      await run(usersAdd, ['--username', 'lan', '--role', 'manager', '--unit', 'Công ty May Huế']);
      await run(usersAdd, ['--username', 'guard.an', '--role', 'guard', '--checkpoint', CP_A, '--password-stdin'], 'mật khẩu cổng A\n');
      const listed = await json<{ users: { username: string; role: string; unit: string | null; checkpoints: string[] }[] }>(usersList, []);
      expect(listed.users.map(({ username, role, unit, checkpoints }) => ({ username, role, unit, checkpoints }))).toEqual([
        { username: 'guard.an', role: 'guard', unit: null, checkpoints: [CP_A] },
        { username: 'lan', role: 'manager', unit: 'Công ty May Huế', checkpoints: [] },
      ]);
      await run(usersSetPassword, ['--username', 'lan', '--password-stdin'], 'mật khẩu mới của Lan\n');
      expect((await withRegistry(config, (db) => checkLogin(db, 'lan', 'mật khẩu mới của Lan')))?.username).toBe('lan');
      await run(usersDisable, ['--username', 'lan']);
      expect(await withRegistry(config, (db) => checkLogin(db, 'lan', 'mật khẩu mới của Lan'))).toBeNull();
      await run(usersRemove, ['--username', 'guard.an']);
      expect((await json<{ users: { username: string }[] }>(usersList, [])).users.map((user) => user.username)).toEqual(['lan']);

      const created = await json<{ token: string; tokenId: string }>(tokensCreate, ['--name', 'Prometheus', '--role', 'inspector', '--read-only']);
      await run(tokensRevoke, ['--id', created.tokenId]);
      const tokens = await json<{ tokens: { tokenId: string; readOnly: boolean; revokedAt: string | null }[] }>(tokensList, []);
      expect(tokens.tokens).toEqual([expect.objectContaining({ tokenId: created.tokenId, readOnly: true, revokedAt: expect.any(String) })]);

      const { entries } = await withRegistry(config, (db) => searchAudit(db, { limit: 20 }));
      expect(entries.reverse().map(({ actor, action, target, source }) => ({ actor, action, target, source }))).toEqual(
        [
          ['user.add', 'lan'],
          ['user.add', 'guard.an'],
          ['user.set-password', 'lan'],
          ['user.disable', 'lan'],
          ['user.remove', 'guard.an'],
          ['token.create', created.tokenId],
          ['token.revoke', created.tokenId],
        ].map(([action, target]) => ({ actor: cliActor(), action, target, source: 'cli' })),
      );
      // The details name what changed, never a password or a token.
      expect(JSON.stringify(entries)).not.toMatch(/mật khẩu|qrg_/);
    });
  }
});
