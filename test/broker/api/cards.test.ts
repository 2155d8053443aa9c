import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pdfStructure } from '../../provisioning/cardsPdfStructure.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { useApi } from './apiHarness.js';
import { expectNoRawIds, MAY_HUE, peopleCsv, registryClient, TO_5 } from './registryFixture.js';

describe('cards API', () => {
  const start = useApi();
  const tempDir = useTempDir('qrgate-api-cards-');

  async function seeded() {
    const api = await start();
    const client = await registryClient(api);
    await client.json('POST', '/api/members/import', peopleCsv);
    return { api, ...client };
  }

  it('issues by unit, scope, member or all; a manager only within its unit; lists live and revoked cards', async () => {
    const { api, json } = await seeded();
    expect(await json('POST', '/api/cards/issue', { all: true }, 'managerOwn')).toEqual({ issued: 2, reissued: 0, skipped: 0 });
    await json('POST', '/api/cards/issue', { unit: TO_5 }, 'managerOwn', 403);
    // A manager's scope means its unit's members in that scope: none here.
    await json('POST', '/api/cards/issue', { scope: 'phu-hoi' }, 'managerOwn', 404);
    await json('POST', '/api/cards/issue', { unit: TO_5, all: true }, 'admin', 400);

    const cuong = (await json('GET', '/api/members', undefined, 'managerOther')).members[0];
    await json('POST', '/api/cards/issue', { memberRef: cuong.ref }, 'managerOwn', 403);
    const one = await json('POST', '/api/cards/issue', { memberRef: cuong.ref });
    expect(one).toMatchObject({ issued: 1, cardNumber: expect.stringMatching(/^(\w{4} ){6}\w{2}$/) });
    expect(await json('POST', '/api/cards/issue', { scope: 'site-a', reissue: true })).toEqual({ issued: 0, reissued: 2, skipped: 0 });

    const all = await json('GET', '/api/cards');
    expect(all.cards).toHaveLength(5);
    expect((await json('GET', '/api/cards?status=live')).cards).toHaveLength(3);
    const own = await json('GET', '/api/cards?status=revoked', undefined, 'managerOwn');
    expect(own.cards.map((c: { unit: string; revokedAt: string | null }) => [c.unit, c.revokedAt !== null])).toEqual([
      [MAY_HUE, true],
      [MAY_HUE, true],
    ]);
    expect(own.cards[0]).toMatchObject({ idMasked: expect.stringMatching(/^\*+\d{3}$/), name: expect.any(String), memberRef: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await json('GET', `/api/cards?unit=${encodeURIComponent(TO_5)}`, undefined, 'managerOwn', 403);

    const page = await json('GET', '/api/cards?limit=4');
    expect((await json('GET', `/api/cards?limit=4&cursor=${page.nextCursor}`)).cards).toHaveLength(1);

    const issued = api.db.prepare("SELECT target, details FROM audit_log WHERE action = 'card.issue' ORDER BY id").all() as { target: string; details: string }[];
    expect(issued.map((a) => a.target)).toEqual([MAY_HUE, '*********103', 'site-a']);
    for (const card of all.cards as { cardNumber: string }[]) expect(JSON.stringify(issued)).not.toContain(card.cardNumber.replaceAll(' ', ''));
    expectNoRawIds(api, JSON.stringify(all));
  });

  it('revokes a card by its printed number, spaces and case as typed; unknown is 404, twice is 409, another unit 403', async () => {
    const { api, json } = await seeded();
    await json('POST', '/api/cards/issue', { all: true });
    const card = (await json('GET', `/api/cards?unit=${encodeURIComponent(MAY_HUE)}`)).cards[0] as { cardNumber: string; idMasked: string };

    await json('POST', '/api/cards/revoke', { number: card.cardNumber }, 'managerOther', 403);
    const revoked = await json('POST', '/api/cards/revoke', { number: card.cardNumber.toLowerCase() }, 'managerOwn');
    expect(revoked).toMatchObject({ cardTail: card.cardNumber.replaceAll(' ', '').slice(-4), idMasked: card.idMasked, unit: MAY_HUE });
    expect((await json('POST', '/api/cards/revoke', { number: card.cardNumber }, 'admin', 409)).error).toBe('conflict');
    expect((await json('POST', '/api/cards/revoke', { number: '0000 0000 0000 0000 0000 0000 00' }, 'admin', 404)).error).toBe('not-found');
    const bad = await json('POST', '/api/cards/revoke', { number: 'not a card' }, 'admin', 400);
    expect(bad.reason).not.toContain('not a card');

    const members = await json('GET', '/api/members');
    expect(members.members.find((m: { idMasked: string }) => m.idMasked === card.idMasked).cardNumber).toBeNull();
    const audit = api.db.prepare("SELECT target, details FROM audit_log WHERE action = 'card.revoke'").all();
    expect(audit).toEqual([{ target: revoked.cardTail, details: JSON.stringify({ member: card.idMasked, unit: MAY_HUE }) }]);
  });

  it('downloads the cards PDF as an attachment that parses as a PDF; a manager gets its unit only; nothing to print is 404', async () => {
    const { send, json } = await seeded();
    await json('GET', '/api/cards.pdf', undefined, 'admin', 404);
    await json('POST', '/api/cards/issue', { all: true });

    const response = await send('GET', '/api/cards.pdf?sheet=a4', undefined, 'managerOwn');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename=".*\.pdf"$/);
    const file = join(tempDir(), 'cards.pdf');
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    const pdf = pdfStructure(file);
    expect(pdf.header).toBe('%PDF-1.3');
    expect(pdf.pages).toBe(1);
    expect([...pdf.mappedChars].join('')).toContain('ễ');

    const cr80 = await send('GET', '/api/cards.pdf');
    writeFileSync(file, Buffer.from(await cr80.arrayBuffer()));
    expect(pdfStructure(file).pages).toBe(3);
    expect((await send('GET', `/api/cards.pdf?unit=${encodeURIComponent(TO_5)}`, undefined, 'managerOwn')).status).toBe(403);
    expect((await send('GET', '/api/cards.pdf?sheet=letter')).status).toBe(400);
  });
});
