import jsQRModule from 'jsqr';
import { describe, it, expect } from 'vitest';
import { formatCardQr, generateCardId } from '../../protocol/credentials/card.js';
import {
  cardFace,
  cardHeightMm,
  cardQrSymbol,
  cardWidthMm,
  fitText,
  groupCardNumber,
  pointsPerMm,
  quietZoneModules,
  sheetLayout,
  type CardFace,
  type QrSymbol,
} from '../../broker/registry/cardSheet.js';
import { createCardsDocument, documentMeasure } from '../../broker/registry/cardsPdf.js';

// jsqr is CommonJS with an ES-style `default` in its types: the function sits one level down.
const jsQR = jsQRModule.default;
const measure = documentMeasure(createCardsDocument());
const cardWidth = cardWidthMm * pointsPerMm;
const cardHeight = cardHeightMm * pointsPerMm;
const cardId = '0HDKM1XDBYPCAQMTSWJBBSE9AX';

/** Paints the symbol's runs, quiet zone included, as a reader's camera would see them. */
function rasterise(symbol: QrSymbol, pixelsPerModule: number) {
  const side = (symbol.size + 2 * quietZoneModules) * pixelsPerModule;
  const rgba = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const run of symbol.runs) {
    for (let y = 0; y < pixelsPerModule; y++) {
      const row = (run.row + quietZoneModules) * pixelsPerModule + y;
      for (let x = 0; x < run.length * pixelsPerModule; x++) {
        const i = (row * side + (run.column + quietZoneModules) * pixelsPerModule + x) * 4;
        rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
      }
    }
  }
  return { rgba, side };
}

function textBoxes(face: CardFace) {
  return face.texts.map((t) => ({ left: t.x, top: t.y, right: t.x + t.width, bottom: t.y + t.lines.length * t.lineHeight, block: t }));
}

describe('card layout', () => {
  it('the QR decodes to the exact card text, a version-2 symbol at error correction M', () => {
    for (const id of [cardId, generateCardId(), generateCardId()]) {
      const symbol = cardQrSymbol(id);
      expect(symbol.text).toBe(formatCardQr(id));
      expect(symbol.size).toBe(25);
      const { rgba, side } = rasterise(symbol, 4);
      expect(jsQR(rgba, side, side)?.data).toBe(formatCardQr(id));
    }
  });

  it('cr80 is one card per page of exactly 85.6 x 54 mm; a4 holds 2 x 5 true-size cards inside the page, cut marks outside them', () => {
    expect(sheetLayout('cr80')).toEqual({ pageWidth: cardWidth, pageHeight: cardHeight, slots: [{ x: 0, y: 0 }], cutMarks: [] });
    expect(cardWidth).toBeCloseTo(242.65, 2);
    expect(cardHeight).toBeCloseTo(153.07, 2);

    const a4 = sheetLayout('a4');
    expect([a4.pageWidth, a4.pageHeight]).toEqual([210 * pointsPerMm, 297 * pointsPerMm]);
    expect(a4.slots).toHaveLength(10);
    const cards = a4.slots.map((s) => ({ left: s.x, top: s.y, right: s.x + cardWidth, bottom: s.y + cardHeight }));
    for (const [i, c] of cards.entries()) {
      expect(c.left).toBeGreaterThan(0);
      expect(c.top).toBeGreaterThan(0);
      expect(c.right).toBeLessThan(a4.pageWidth);
      expect(c.bottom).toBeLessThan(a4.pageHeight);
      for (const other of cards.slice(i + 1)) {
        const overlap = Math.min(c.right, other.right) - Math.max(c.left, other.left) > 1e-6 && Math.min(c.bottom, other.bottom) - Math.max(c.top, other.top) > 1e-6;
        expect(overlap).toBe(false);
      }
    }
    expect(a4.cutMarks.length).toBeGreaterThan(0);
    for (const mark of a4.cutMarks) {
      for (const p of [mark.from, mark.to]) {
        expect(p.x >= 0 && p.x <= a4.pageWidth && p.y >= 0 && p.y <= a4.pageHeight).toBe(true);
        const onACard = cards.some((c) => p.x > c.left + 1e-6 && p.x < c.right - 1e-6 && p.y > c.top + 1e-6 && p.y < c.bottom - 1e-6);
        expect(onACard).toBe(false);
      }
    }
  });

  it('a card holds a QR of at least 22 mm with a clear quiet zone, and every text inside the margins', () => {
    const names = [
      'Nguyễn Thị Ngọc Hà',
      'Tôn Nữ Thị Hoàng Phương Uyên Khánh Linh Nguyễn Phước Bảo Trâm Công Tằng Tôn Nữ',
      'Bùi'.repeat(40),
      '',
    ];
    for (const name of names) {
      const face = cardFace({ cardId, name, unit: 'Công ty TNHH Dệt May Phú Bài – Phân xưởng 3 – Tổ cắt may số 12, Khu công nghiệp Phú Bài', scope: 'hue' }, measure);
      const symbolMm = (face.qr.size * face.qr.moduleSize) / pointsPerMm;
      expect(symbolMm).toBeGreaterThanOrEqual(22);
      const quiet = quietZoneModules * face.qr.moduleSize;
      const qrBox = { left: face.qr.x - quiet, top: face.qr.y - quiet, right: face.qr.x + face.qr.size * face.qr.moduleSize + quiet };
      const qrBottom = face.qr.y + face.qr.size * face.qr.moduleSize + quiet;
      expect(qrBox.left).toBeGreaterThanOrEqual(0);
      expect(qrBox.top).toBeGreaterThanOrEqual(0);
      expect(qrBox.right).toBeLessThanOrEqual(cardWidth);
      expect(qrBottom).toBeLessThanOrEqual(cardHeight);
      const boxes = textBoxes(face);
      for (const box of boxes) {
        expect(box.left).toBeGreaterThanOrEqual(3 * pointsPerMm);
        expect(box.top).toBeGreaterThanOrEqual(3 * pointsPerMm);
        expect(box.right).toBeLessThanOrEqual(cardWidth - 3 * pointsPerMm);
        expect(box.bottom).toBeLessThanOrEqual(cardHeight - 3 * pointsPerMm);
        for (const line of box.block.lines) expect(measure(box.block.font, line, box.block.sizePt)).toBeLessThanOrEqual(box.block.width);
        const besideQr = box.right <= qrBox.left || box.top >= qrBottom;
        expect(besideQr).toBe(true);
      }
      for (const [i, box] of boxes.entries()) for (const next of boxes.slice(i + 1)) expect(next.top).toBeGreaterThanOrEqual(box.bottom - 1e-6);
    }
  });

  it('shows the name, unit, scope and grouped card number; a long name shrinks and wraps before it is cut', () => {
    const face = cardFace({ cardId, name: 'Nguyễn Thị Ngọc Hà', unit: 'Tổ dân phố 5, Phường Phú Hội', scope: 'hue-phu-hoi' }, measure);
    expect(face.texts.map((t) => t.lines.join(' '))).toEqual([
      'qrgate · hue-phu-hoi',
      'Nguyễn Thị Ngọc Hà',
      'Tổ dân phố 5, Phường Phú Hội',
      '0HDK M1XD BYPC AQMT SWJB BSE9 AX',
    ]);
    expect(groupCardNumber(cardId).replaceAll(' ', '')).toBe(cardId);

    const long = 'Tôn Nữ Thị Hoàng Phương Uyên Khánh Linh';
    const spec = { font: 'bold', maxSizePt: 12, minSizePt: 7, maxLines: 3, width: 110 } as const;
    const fitted = fitText(long, spec, measure);
    expect(fitted.lines.join(' ')).toBe(long);
    expect(fitted.lines.length).toBeGreaterThan(1);
    const cut = fitText(`${long} `.repeat(6), spec, measure);
    expect(cut.sizePt).toBe(7);
    expect(cut.lines).toHaveLength(3);
    expect(cut.lines[2]!.endsWith('…')).toBe(true);
    for (const line of cut.lines) expect(measure('bold', line, 7)).toBeLessThanOrEqual(110);
  });

  it('prints names typed in decomposed Unicode as precomposed letters', () => {
    const decomposed = 'Nguyễn Thị Ngọc Hà'.normalize('NFD');
    const fitted = fitText(decomposed, { font: 'bold', maxSizePt: 12, minSizePt: 7, maxLines: 3, width: 200 }, measure);
    expect(fitted.lines).toEqual(['Nguyễn Thị Ngọc Hà'.normalize('NFC')]);
  });
});
