import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointSignPdf } from '../../broker/registry/checkpointSignPdf.js';
import { pdfTextLines } from '../helpers/pdfText.js';
import { useTempDir } from '../helpers/tempDir.js';
import { pdfStructure } from './cardsPdfStructure.js';

const tempDir = useTempDir('qrgate-sign-');
const labels = { heading: 'ĐIỂM KIỂM SOÁT RA VÀO', code: 'Mã điểm kiểm soát', unit: 'Đơn vị', hint: 'Tra cứu số lượt quét: nhập mã này tại trang /check' };

describe('the checkpoint sign', () => {
  it('is one A4 page with the Vietnamese name, the code and the unit as text, in the embedded DejaVu fonts', async () => {
    const file = join(tempDir(), 'sign.pdf');
    writeFileSync(file, await checkpointSignPdf({ name: 'Cổng phụ — Xưởng may', code: '12345678901234', unit: 'Công ty May Hòa Bình' }, labels));
    const structure = pdfStructure(file);
    expect(structure.header).toBe('%PDF-1.3');
    expect(structure.pages).toBe(1);
    expect(structure.mediaBoxes[0]!.map(Math.round)).toEqual([0, 0, 595, 842]);
    expect(structure.embeddedFonts).toEqual(expect.arrayContaining(['DejaVuSansCondensed-Bold', 'DejaVuSansMono']));
    expect(pdfTextLines(file)).toEqual([labels.heading, 'Cổng phụ — Xưởng may', labels.code, '12345678901234', labels.unit, 'Công ty May Hòa Bình', labels.hint]);
  });

  it('leaves the unit out when the checkpoint has none', async () => {
    const file = join(tempDir(), 'sign.pdf');
    writeFileSync(file, await checkpointSignPdf({ name: 'Cổng chính', code: '12345678901234', unit: '' }, labels));
    expect(pdfTextLines(file)).toEqual([labels.heading, 'Cổng chính', labels.code, '12345678901234', labels.hint]);
  });
});
