import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig } from '../../broker/config.js';
import { withRegistryDb } from '../../broker/registry/registryDb.js';
import type { Command } from '../../cli/command.js';
import { run as cardsIssue } from '../../cli/commands/cardsIssue.js';
import { run as cardsList } from '../../cli/commands/cardsList.js';
import { run as cardsRevoke } from '../../cli/commands/cardsRevoke.js';
import { run as listsPublish } from '../../cli/commands/listsPublish.js';
import { run as membersImport } from '../../cli/commands/membersImport.js';
import { run as membersList } from '../../cli/commands/membersList.js';
import { run as membersRemove } from '../../cli/commands/membersRemove.js';
import { run as membersSetStatus } from '../../cli/commands/membersSetStatus.js';
import { run as membersUpdate } from '../../cli/commands/membersUpdate.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { AN, BINH, CUONG, MAY_HUE, peopleCsv, TO_5 } from '../broker/api/registryFixture.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

describe('qrgate members list | cards list | cards revoke, and the audit log of registry commands', () => {
  const tempDir = useTempDir('qrgate-registry-cli-');

  function site() {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const csv = join(dir, 'people.csv');
    writeFileSync(csv, peopleCsv);
    const cli = async (command: Command, argv: string[]) => {
      const c = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await command(c.ctx);
      return { code, out: c.out(), err: c.err() };
    };
    const audit = () =>
      withRegistryDb(loadCentralConfig(centralConfig), (db) => db.prepare('SELECT actor, action, target, details, source FROM audit_log ORDER BY id').all() as Record<string, string>[]);
    return { csv, cli, audit };
  }

  it('members list: every person by masked ID, filtered by unit or scope; --json as one object', async () => {
    const { csv, cli } = site();
    expect((await cli(membersImport, [csv])).code).toBe(0);
    const text = await cli(membersList, []);
    // One import registers its rows in ref order, not file order.
    expect(text.out.trim().split('\n').sort()).toEqual([
      `*********101  Nguyễn Văn An  0905123456  ${MAY_HUE}  site-a  allow  no card`,
      `*********102  Trần Thị Bình  0914000111  ${MAY_HUE}  site-a  check  no card`,
      `*********103  Lê Văn Cường  0935000222  ${TO_5}  phu-hoi  allow  no card`,
    ]);
    const json = JSON.parse((await cli(membersList, ['--unit', TO_5, '--json'])).out) as { members: { name: string; ref: string }[] };
    expect(json.members.map((m) => m.name)).toEqual(['Lê Văn Cường']);
    expect(json.members[0]!.ref).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse((await cli(membersList, ['--scope', 'nowhere', '--json'])).out)).toEqual({ members: [] });
    for (const out of [text.out, JSON.stringify(json)]) for (const id of [AN, BINH, CUONG]) expect(out).not.toContain(id);
  });

  it('cards list and cards revoke by the printed number with spaces; unknown and repeated revokes are refused', async () => {
    const { csv, cli } = site();
    await cli(membersImport, [csv]);
    await cli(cardsIssue, ['--unit', MAY_HUE]);
    const { cards } = JSON.parse((await cli(cardsList, ['--json'])).out) as { cards: { cardNumber: string; idMasked: string; revokedAt: string | null }[] };
    expect(cards).toHaveLength(2);
    const number = cards[0]!.cardNumber;
    expect(number).toContain(' ');

    const revoked = await cli(cardsRevoke, ['--number', number, '--json']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.out)).toMatchObject({ cardTail: number.replaceAll(' ', '').slice(-4), idMasked: cards[0]!.idMasked, unit: MAY_HUE });
    await expect(cli(cardsRevoke, ['--number', number])).rejects.toMatchObject({ code: 'card-revoked' });
    await expect(cli(cardsRevoke, ['--number', '7'.repeat(26)])).rejects.toMatchObject({ code: 'card-unknown' });
    await expect(cli(cardsRevoke, ['--number', 'abc'])).rejects.toMatchObject({ code: 'card-invalid' });

    const text = (await cli(cardsList, ['--unit', MAY_HUE])).out.trim().split('\n');
    expect(text[0]).toMatch(new RegExp(`^${number}  \\${cards[0]!.idMasked.slice(0, 1)}{9}\\d{3}  .+  ${MAY_HUE}  revoked `));
    expect(text[1]).toMatch(/ issued /);
    expect((await cli(membersList, [])).out).toContain(`${cards[1]!.idMasked}  `);
    expect((await cli(membersList, [])).out).toContain(`card …${cards[1]!.cardNumber.replaceAll(' ', '').slice(-4)}`);
  });

  it('every registry change from the CLI is in the audit log as cli:<user> from cli, without a raw ID or a whole card number', async () => {
    const { csv, cli, audit } = site();
    await cli(membersImport, [csv]);
    await cli(membersUpdate, ['--id-number', BINH, '--phone', '0914000999']);
    await cli(membersSetStatus, ['--id-number', BINH, '--status', 'deny']);
    await cli(cardsIssue, ['--id-number', CUONG]);
    const { cards } = JSON.parse((await cli(cardsList, ['--json'])).out) as { cards: { cardNumber: string }[] };
    await cli(cardsRevoke, ['--number', cards[0]!.cardNumber]);
    await cli(listsPublish, ['--scope', 'site-a']);
    await cli(membersRemove, ['--id-number', AN]);

    const entries = await audit();
    expect(entries.map((e) => [e.action, e.target])).toEqual([
      ['member.import', ''],
      ['member.update', '*********102'],
      ['member.set-status', '*********102'],
      ['card.issue', '*********103'],
      ['card.revoke', cards[0]!.cardNumber.replaceAll(' ', '').slice(-4)],
      ['list.publish', 'site-a'],
      ['member.remove', '*********101'],
    ]);
    for (const entry of entries) {
      expect(entry.actor).toMatch(/^cli:/);
      expect(entry.source).toBe('cli');
    }
    const all = JSON.stringify(entries);
    for (const id of [AN, BINH, CUONG]) expect(all).not.toContain(id);
    expect(all).not.toContain(cards[0]!.cardNumber.replaceAll(' ', ''));
  });
});
