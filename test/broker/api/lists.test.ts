import { describe, expect, it } from 'vitest';
import { useApi } from './apiHarness.js';
import { peopleCsv, registryClient } from './registryFixture.js';

describe('lists API', () => {
  const start = useApi();

  it('publishes a scope with the authority key and lists its versions; a manager only the scopes of its unit', async () => {
    const api = await start();
    const { json } = await registryClient(api);
    await json('POST', '/api/members/import', peopleCsv);

    const first = await json('POST', '/api/lists/site-a/publish', { expiresInDays: 2 }, 'managerOwn');
    expect(first).toMatchObject({ scope: 'site-a', version: 1, count: 2, deltaBytes: null });
    const second = await json('POST', '/api/lists/site-a/publish', undefined, 'admin');
    expect(second).toMatchObject({ version: 2, count: 2 });
    await json('POST', '/api/lists/phu-hoi/publish', {}, 'managerOwn', 403);
    await json('POST', '/api/lists/phu-hoi/publish', {});
    await json('POST', '/api/lists/nobody-here/publish', {}, 'admin', 409);
    await json('POST', '/api/lists/Not%20A%20Scope/publish', {}, 'admin', 400);
    await json('POST', '/api/lists/site-a/publish', { expiresInDays: 0 }, 'admin', 400);

    const all = await json('GET', '/api/lists');
    expect(all.scopes.map((s: { scope: string; versions: unknown[] }) => [s.scope, s.versions.length])).toEqual([
      ['phu-hoi', 1],
      ['site-a', 2],
    ]);
    expect(all.scopes[1].versions[0]).toMatchObject({ version: 2, entryCount: 2, deltaCount: 0, issuedAt: second.issuedAt, expiresAt: second.expiresAt });
    expect((await json('GET', '/api/lists', undefined, 'managerOwn')).scopes.map((s: { scope: string }) => s.scope)).toEqual(['site-a']);
    expect((await json('GET', '/api/lists', undefined, 'guard', 403)).error).toBe('forbidden');

    const audit = api.db.prepare("SELECT actor, target FROM audit_log WHERE action = 'list.publish' ORDER BY id").all() as { actor: string; target: string }[];
    expect(audit.map((a) => a.target)).toEqual(['site-a', 'site-a', 'phu-hoi']);
  });
});
