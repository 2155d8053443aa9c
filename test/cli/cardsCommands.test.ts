import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { run as issue } from '../../cli/commands/cardsIssue.js';
import { run as print } from '../../cli/commands/cardsPrint.js';
import { cardQrSymbol, groupCardNumber, pointsPerMm } from '../../broker/registry/cardSheet.js';
import { parseCredential } from '../../protocol/credentials/index.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { cardRows, people, registrySite } from '../broker/registry/cardsFixture.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';
import { pdfStructure } from '../provisioning/cardsPdfStructure.js';

describe('qrgate cards issue | print', () => {
  const tempDir = useTempDir('qrgate-cards-cli-');

  async function site() {
    const dir = tempDir();
    const s = registrySite(dir);
    await s.insertMembers([
      { idNumber: '046190001234', name: 'Nguyễn Thị Ngọc Hà', unit: 'Tổ dân phố 5', scope: 'phu-hoi' },
      ...people(4, 'Tổ dân phố 5', 'phu-hoi', 10),
      ...people(3, 'Tổ dân phố 7', 'phu-hoi', 20),
      ...people(2, 'Phân xưởng 3', 'phu-bai', 30),
    ]);
    return { ...s, dir };
  }

  async function cards(command: typeof issue, argv: string[]) {
    const c = cliContext(argv);
    const code = await command(c.ctx);
    return { code, out: c.out(), err: c.err() };
  }

  it('issue: a unit, then the rest of the scope, then a reissue; counts as one JSON object', async () => {
    const s = await site();
    const base = ['--central-config', s.centralConfig, '--json'];
    const unit = await cards(issue, [...base, '--unit', 'Tổ dân phố 5']);
    expect(unit.code).toBe(0);
    expect(JSON.parse(unit.out)).toEqual({ issued: 5, reissued: 0, skipped: 0 });
    expect(JSON.parse((await cards(issue, [...base, '--scope', 'phu-hoi'])).out)).toEqual({ issued: 3, reissued: 0, skipped: 5 });
    expect(JSON.parse((await cards(issue, [...base, '--all', '--reissue'])).out)).toEqual({ issued: 2, reissued: 8, skipped: 0 });

    const human = await cards(issue, ['--central-config', s.centralConfig, '--all']);
    expect(human.out).toBe('cards: 0 issued, 0 reissued (previous cards revoked), 10 skipped (they hold a live card; --reissue replaces it)\n');
    const rows = await withRegistry(s.config, cardRows);
    expect(rows).toHaveLength(18);
    expect(rows.filter((r) => r.revokedAtMs === null)).toHaveLength(10);
  });

  it('issue --id-number: finds the person by the ref of the number, prints the card number, never the ID number', async () => {
    const s = await site();
    const first = await cards(issue, ['--central-config', s.centralConfig, '--id-number', '046 190 001 234']);
    const [, number] = /^card ((?:[0-9A-Z]{1,4} ?){7}) issued\n$/.exec(first.out) ?? [];
    expect(number).toBeDefined();
    const json = await cards(issue, ['--central-config', s.centralConfig, '--id-number', '046190001234', '--json']);
    const { cardId, qrText } = JSON.parse(json.out) as { cardId: string; qrText: string };
    expect(groupCardNumber(cardId)).toBe(number);
    expect(JSON.parse(json.out)).toEqual({ issued: 0, reissued: 0, skipped: 1, cardId, qrText });
    // The exact text the printed card's QR encodes, and a gate reads it back as that card.
    expect(qrText).toBe(cardQrSymbol(cardId).text);
    expect(parseCredential(qrText, { typed: false })).toMatchObject({ ok: true, credential: { type: 'card', namespace: 'card', id: cardId } });
    const again = await cards(issue, ['--central-config', s.centralConfig, '--id-number', '046190001234', '--reissue']);
    expect(again.out).toMatch(/^card .* issued; the member's previous card is revoked\n$/);
    for (const output of [first, json, again]) expect(`${output.out}${output.err}`).not.toMatch(/046\s?190|001\s?234/);

    const unknown = cliContext(['--central-config', s.centralConfig, '--id-number', '079123456789']);
    const refusal = await issue(unknown.ctx).catch((err: unknown) => err);
    expect(refusal).toMatchObject({ code: 'unknown-member', message: expect.stringContaining('no member is registered under that ID number') });
    expect(String((refusal as Error).message)).not.toContain('079123456789');
  });

  it('issue refuses a missing or doubled selection as a usage error', async () => {
    const s = await site();
    await expect(issue(cliContext(['--central-config', s.centralConfig]).ctx)).rejects.toThrow(UsageError);
    await expect(issue(cliContext(['--central-config', s.centralConfig, '--unit', 'A', '--all']).ctx)).rejects.toThrow('choose one of --unit, --all');
    await expect(issue(cliContext(['--all']).ctx)).rejects.toThrow('missing --central-config');
  });

  it('print: the live cards of a unit on CR80 pages, or everyone on A4 sheets, the file holding the QR of each card', async () => {
    const s = await site();
    await cards(issue, ['--central-config', s.centralConfig, '--all']);
    const unitPdf = join(s.dir, 'to5.pdf');
    const unit = await cards(print, ['--central-config', s.centralConfig, '--unit', 'Tổ dân phố 5', '--out', unitPdf]);
    expect(unit.out).toBe(`5 cards on 5 CR80 pages written to ${unitPdf}\n`);
    const cr80 = pdfStructure(unitPdf);
    expect(cr80.pages).toBe(5);
    expect(cr80.mediaBoxes.every(([, , w, h]) => Math.abs(w! / pointsPerMm - 85.6) < 1e-3 && Math.abs(h! / pointsPerMm - 54) < 1e-3)).toBe(true);
    for (const char of 'Nguyễn Thị Ngọc Hà') expect(cr80.mappedChars).toContain(char);

    const sheetPdf = join(s.dir, 'all.pdf');
    const all = await cards(print, ['--central-config', s.centralConfig, '--out', sheetPdf, '--sheet', 'a4', '--json']);
    expect(JSON.parse(all.out)).toEqual({ file: sheetPdf, sheet: 'a4', cards: 10, pages: 1, bytes: expect.any(Number) });
    expect(pdfStructure(sheetPdf).pages).toBe(1);
  });

  it('print refuses a bad sheet, a selection without cards, and writes no file then', async () => {
    const s = await site();
    const out = join(s.dir, 'cards.pdf');
    await expect(print(cliContext(['--central-config', s.centralConfig, '--out', out, '--sheet', 'a5']).ctx)).rejects.toThrow('--sheet must be cr80 | a4, got "a5"');
    await expect(print(cliContext(['--central-config', s.centralConfig, '--unit', 'Tổ dân phố 5']).ctx)).rejects.toThrow('missing --out');
    await expect(print(cliContext(['--central-config', s.centralConfig, '--out', out, '--scope', 'phu-bai']).ctx)).rejects.toMatchObject({ code: 'no-cards' });
    await expect(print(cliContext(['--central-config', s.centralConfig, '--out', out, '--id-number', '079123456789']).ctx)).rejects.toMatchObject({
      code: 'unknown-member',
    });
    expect(readdirSync(s.dir).filter((f) => f.endsWith('.pdf') || f.endsWith('.part'))).toEqual([]);
  });
});
