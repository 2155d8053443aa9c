import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { generateCardId } from '../../protocol/credentials/card.js';
import { pointsPerMm, type CardContent } from '../../broker/registry/cardSheet.js';
import { writeCardsPdf } from '../../broker/registry/cardsPdf.js';
import { useTempDir } from '../helpers/tempDir.js';
import { pdfStructure } from './cardsPdfStructure.js';

const people: readonly Omit<CardContent, 'cardId'>[] = [
  { name: 'Nguyễn Thị Ngọc Hà', unit: 'Tổ dân phố 5, Phường Phú Hội', scope: 'hue' },
  { name: 'Trần Văn Đức', unit: 'Phân xưởng 3', scope: 'hue' },
  { name: 'Lê Thị Hoa', unit: 'Phân xưởng 3', scope: 'hue' },
];

function cards(count: number): CardContent[] {
  return Array.from({ length: count }, (_, i) => ({ cardId: generateCardId(), ...people[i % people.length]! }));
}

describe('cards PDF', () => {
  const tempDir = useTempDir('qrgate-cards-pdf-');

  it('cr80: one page per card, each exactly 85.6 x 54 mm, Vietnamese drawn with an embedded Unicode font', async () => {
    const file = join(tempDir(), 'cards.pdf');
    const result = await writeCardsPdf(cards(3), { sheet: 'cr80', file });
    const pdf = pdfStructure(file);
    expect(result).toEqual({ cards: 3, pages: 3, bytes: statSync(file).size });
    expect(pdf.header).toBe('%PDF-1.3');
    expect(pdf.pages).toBe(3);
    for (const [x, y, width, height] of pdf.mediaBoxes) {
      expect([x, y]).toEqual([0, 0]);
      expect(width! / pointsPerMm).toBeCloseTo(85.6, 3);
      expect(height! / pointsPerMm).toBeCloseTo(54, 3);
    }
    expect(pdf.embeddedFonts.sort()).toEqual(['DejaVuSansCondensed', 'DejaVuSansCondensed-Bold', 'DejaVuSansMono']);
    expect(pdf.fontFiles).toBe(3);
    for (const char of 'Nguyễn Thị Ngọc Hà Tổ dân phố 5, Phường Phú Hội Đức') expect(pdf.mappedChars).toContain(char);
  });

  it('a4: ten cards per portrait A4 page, the last page partly filled', async () => {
    const file = join(tempDir(), 'sheet.pdf');
    const result = await writeCardsPdf(cards(21), { sheet: 'a4', file });
    const pdf = pdfStructure(file);
    expect(result).toMatchObject({ cards: 21, pages: 3 });
    expect(pdf.pages).toBe(3);
    expect(pdf.mediaBoxes).toHaveLength(3);
    for (const [, , width, height] of pdf.mediaBoxes) {
      expect(width! / pointsPerMm).toBeCloseTo(210, 3);
      expect(height! / pointsPerMm).toBeCloseTo(297, 3);
    }
  });

  it('the file appears only when complete and only its owner can read it (the cards in it open gates)', async () => {
    const dir = tempDir();
    const file = join(dir, 'cards.pdf');
    await writeCardsPdf(cards(250), { sheet: 'a4', file });
    expect(readdirSync(dir)).toEqual(['cards.pdf']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(pdfStructure(file).pages).toBe(25);
  });

  it('a file that cannot be written is reported and leaves nothing behind', async () => {
    const dir = tempDir();
    const file = join(dir, 'missing-folder', 'cards.pdf');
    await expect(writeCardsPdf(cards(12), { sheet: 'a4', file })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(join(dir, 'missing-folder'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
