import { describe, expect, it } from 'vitest';
import { useApi } from './apiHarness.js';
import { AN, BINH, CUONG, expectNoRawIds, MAY_HUE, peopleCsv, registryClient, TO_5 } from './registryFixture.js';

describe('members API', () => {
  const start = useApi();

  async function seeded() {
    const api = await start();
    const client = await registryClient(api);
    expect(await client.json('POST', '/api/members/import', peopleCsv)).toMatchObject({ rows: 3, added: 3 });
    return { api, ...client };
  }

  it('lists people with ref, masked ID and card number, searches by name without diacritics and by phone, and pages', async () => {
    const { api, json } = await seeded();
    await json('POST', '/api/cards/issue', { unit: MAY_HUE });
    const { members, nextCursor } = await json('GET', '/api/members');
    expect(nextCursor).toBeNull();
    expect(members).toHaveLength(3);
    // One import registers its rows in ref order, not file order.
    const byName = (name: string) => members.find((m: { name: string }) => m.name === name);
    expect(byName('Nguyễn Văn An')).toMatchObject({ idMasked: '*********101', name: 'Nguyễn Văn An', address: '12 Lê Lợi, Phường Phú Hội, Huế', unit: MAY_HUE, scope: 'site-a', status: 'allow' });
    expect(byName('Nguyễn Văn An').ref).toMatch(/^[0-9a-f]{64}$/);
    expect(byName('Nguyễn Văn An').cardNumber).toMatch(/^(\w{4} ){6}\w{2}$/);
    expect(byName('Lê Văn Cường').cardNumber).toBeNull();

    expect((await json('GET', `/api/members?q=${encodeURIComponent('nguyen van')}`)).members.map((m: { name: string }) => m.name)).toEqual(['Nguyễn Văn An']);
    expect((await json('GET', `/api/members?q=${encodeURIComponent('CƯỜNG')}`)).members.map((m: { name: string }) => m.name)).toEqual(['Lê Văn Cường']);
    expect((await json('GET', '/api/members?q=0914000')).members.map((m: { name: string }) => m.name)).toEqual(['Trần Thị Bình']);
    expect((await json('GET', '/api/members?status=check')).members).toHaveLength(1);

    const first = await json('GET', '/api/members?limit=2');
    expect(first.members).toHaveLength(2);
    const second = await json('GET', `/api/members?limit=2&cursor=${first.nextCursor}`);
    expect([...first.members, ...second.members].map((m: { name: string }) => m.name)).toEqual(members.map((m: { name: string }) => m.name));
    expect(second.members).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const bad = await json('GET', '/api/members?cursor=bm9wZQ', undefined, 'admin', 400);
    expect(bad.reason).toContain('cursor');
    expectNoRawIds(api, JSON.stringify([first, second]));
  });

  it('a manager sees and changes only its own unit: another unit, by filter or by ref, is 403', async () => {
    const { json } = await seeded();
    const own = await json('GET', '/api/members', undefined, 'managerOwn');
    expect(own.members.map((m: { unit: string }) => m.unit)).toEqual([MAY_HUE, MAY_HUE]);
    await json('GET', `/api/members?unit=${encodeURIComponent(TO_5)}`, undefined, 'managerOwn', 403);

    const cuong = (await json('GET', '/api/members', undefined, 'managerOther')).members[0];
    expect(cuong.name).toBe('Lê Văn Cường');
    await json('GET', `/api/members/${cuong.ref}`, undefined, 'managerOwn', 403);
    await json('PATCH', `/api/members/${cuong.ref}`, { phone: '0905000000' }, 'managerOwn', 403);
    await json('POST', `/api/members/${cuong.ref}/status`, { status: 'deny' }, 'managerOwn', 403);
    await json('DELETE', `/api/members/${cuong.ref}`, undefined, 'managerOwn', 403);
    await json('POST', '/api/members/search', { idNumber: CUONG }, 'managerOwn', 403);
    expect((await json('GET', `/api/members/${cuong.ref}`)).member.status).toBe('allow');

    const an = own.members.find((m: { name: string }) => m.name === 'Nguyễn Văn An');
    await json('PATCH', `/api/members/${an.ref}`, { unit: TO_5 }, 'managerOwn', 403);
    expect(await json('PATCH', `/api/members/${an.ref}`, { phone: '+84 905 999 888' }, 'managerOwn')).toMatchObject({ changed: ['phone'], member: { phone: '+84905999888' } });
  });

  it('adds one person: a manager only to its own unit; a registered ID number is 409; bad fields are named, never echoed', async () => {
    const { api, json } = await seeded();
    const person = { name: 'Phạm Thị Dung', phone: '0901234567', scope: 'site-a', idNumber: '046195000104' };
    const added = await json('POST', '/api/members', person, 'managerOwn', 201);
    expect(added.member).toMatchObject({ name: 'Phạm Thị Dung', unit: MAY_HUE, status: 'allow', idMasked: '*********104', cardNumber: null });
    await json('POST', '/api/members', { ...person, idNumber: '046195000105', unit: TO_5 }, 'managerOwn', 403);
    const again = await json('POST', '/api/members', { ...person, unit: TO_5 }, 'admin', 409);
    expect(again.reason).toContain('*********104');
    const bad = await json('POST', '/api/members', { ...person, unit: TO_5, phone: '12', idNumber: '4619500010' }, 'admin', 400);
    expect(bad.reason).toMatch(/phone .*idNumber/);
    expect(bad.reason).not.toContain('4619500010');
    expectNoRawIds(api, JSON.stringify([added, again]));
    expect(JSON.stringify(api.log.lines)).not.toContain('046195000104');
  });

  it('finds one person by ID number in a POST body; unknown is 404; updates, sets status and removes, each audited by masked ID', async () => {
    const { api, json } = await seeded();
    const found = await json('POST', '/api/members/search', { idNumber: BINH });
    expect(found.member).toMatchObject({ name: 'Trần Thị Bình', idMasked: '*********102' });
    await json('POST', '/api/members/search', { idNumber: '046085999999' }, 'admin', 404);
    const ref = found.member.ref as string;

    expect((await json('PATCH', `/api/members/${ref}`, { address: '5 Hùng Vương, Huế', name: 'Trần Thị Bình' })).changed).toEqual(['address']);
    expect((await json('POST', `/api/members/${ref}/status`, { status: 'deny' })).member.status).toBe('deny');
    await json('POST', `/api/members/${ref}/status`, { status: 'maybe' }, 'admin', 400);
    await json('PATCH', `/api/members/${ref}`, {}, 'admin', 400);
    await json('GET', '/api/members/not-a-ref', undefined, 'admin', 400);

    await json('POST', '/api/cards/issue', { memberRef: ref });
    expect(await json('DELETE', `/api/members/${ref}`)).toEqual({ idMasked: '*********102', cards: 1, removed: true });
    await json('GET', `/api/members/${ref}`, undefined, 'admin', 404);

    const audit = api.db.prepare("SELECT action, target, details, source FROM audit_log WHERE action LIKE 'member.%' ORDER BY id").all() as { action: string; target: string }[];
    expect(audit.map((a) => [a.action, a.target])).toEqual([
      ['member.import', ''],
      ['member.update', '*********102'],
      ['member.set-status', '*********102'],
      ['member.remove', '*********102'],
    ]);
    expectNoRawIds(api, JSON.stringify(found));
  });

  it('import: one bad line writes nothing and names the line and field; a manager may import only its own unit', async () => {
    const api = await start();
    const { json } = await registryClient(api);
    const badCsv = peopleCsv + 'Võ Thị Em,123,,Tổ dân phố 5,phu-hoi,046199000106,allow\n';
    const refused = await json('POST', '/api/members/import', badCsv, 'admin', 400);
    expect(refused).toMatchObject({ error: 'bad-request', problemCount: 1, problems: [{ line: 5, field: 'phone' }] });
    expect(api.db.prepare('SELECT count(*) FROM members').pluck().get()).toBe(0);

    const managerRefused = await json('POST', '/api/members/import', peopleCsv, 'managerOwn', 400);
    expect(managerRefused.problems).toEqual([{ line: 4, field: 'unit', kind: 'not-your-unit', message: `is not ${MAY_HUE}, the unit you manage` }]);
    expect(api.db.prepare('SELECT count(*) FROM members').pluck().get()).toBe(0);

    await json('POST', '/api/members/import', peopleCsv);
    // A manager's file cannot take over a person registered in another unit.
    const takeover = `name,phone,address,unit,scope,idNumber,status\nLê Văn Cường,0935000222,,${MAY_HUE},site-a,${CUONG},allow\n`;
    expect((await json('POST', '/api/members/import', takeover, 'managerOwn', 400)).problems).toMatchObject([{ line: 2, field: 'idNumber' }]);
    expect(await json('POST', '/api/members/import', peopleCsv.split('\n').slice(0, 3).join('\n'), 'managerOwn')).toMatchObject({ rows: 2, unchanged: 2 });
    expectNoRawIds(api, JSON.stringify([refused, managerRefused]));
    expect(JSON.stringify(api.log.lines)).not.toContain('046199000106');
  });

  it('guards, inspectors and anonymous callers get nothing of the registry', async () => {
    const { send } = await seeded();
    expect((await send('GET', '/api/members', undefined, 'guard')).status).toBe(403);
    expect((await send('GET', '/api/members', undefined, 'inspector')).status).toBe(403);
    expect((await send('POST', '/api/members/search', { idNumber: AN }, null)).status).toBe(401);
  });
});
