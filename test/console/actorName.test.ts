import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createToken } from '../../broker/access/tokens.js';
import { loadCentralConfig } from '../../broker/config.js';
import { openRegistry } from '../../broker/registry/registryDb.js';
import { actorNames } from '../../console/actorName.js';
import { translator } from '../../console/i18n/lang.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';

/** How the audit and alarm pages name who did something, on a real registry file. */
const dir = mkdtempSync(join(tmpdir(), 'qrgate-actor-name-'));
const registry = await openRegistry(loadCentralConfig(writeLocalCentral(dir)));
const db = registry.db;
afterAll(async () => {
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('actorNames', () => {
  it('shows a user by username, a token by its name, the command line by its OS user, in Vietnamese and English', async () => {
    const { info } = await createToken(db, { name: 'xuất sổ hằng đêm', role: 'inspector', readOnly: true, createdBy: 'cli:root' });
    const actors = ['user:vanhanh', `token:${info.tokenId}`, 'cli:root'];
    const vi = await actorNames({ t: translator('vi') }, db, actors);
    const en = await actorNames({ t: translator('en') }, db, actors);
    expect(actors.map(vi)).toEqual(['vanhanh', 'khoá API: xuất sổ hằng đêm', 'dòng lệnh: root']);
    expect(actors.map(en)).toEqual(['vanhanh', 'token: xuất sổ hằng đêm', 'command line: root']);
  });

  it('names a token no longer in the registry by its id, and shows anything it does not know as stored', async () => {
    const en = await actorNames({ t: translator('en') }, db, ['token:gone1234']);
    expect(en('token:gone1234')).toBe('token: gone1234');
    expect(['system', 'user:', ':x', 'robot:r2'].map(en)).toEqual(['system', 'user:', ':x', 'robot:r2']);
  });
});
