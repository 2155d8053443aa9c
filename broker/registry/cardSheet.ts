import { create as createQr } from 'qrcode';
import { formatCardQr, groupCardNumber } from '../../protocol/credentials/card.js';

/**
 * Where everything goes on a printed qrgate card and on a sheet of cards: pure geometry in
 * PDF points (1/72 inch), origin top-left, y down (as pdfkit draws). cardsPdf.ts
 * only paints what this returns, so the layout is tested without reading a PDF back.
 */

export const pointsPerMm = 72 / 25.4;
const mm = (value: number) => value * pointsPerMm;

/** ISO/IEC 7810 ID-1 ("CR80"), the size of a bank card and of the CCCD, landscape. */
export const cardWidthMm = 85.6;
export const cardHeightMm = 54;
const cardWidth = mm(cardWidthMm);
const cardHeight = mm(cardHeightMm);

import { sheetKinds, type SheetKind } from './sheetKinds.js';

export { sheetKinds, type SheetKind };

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Segment {
  readonly from: Point;
  readonly to: Point;
}

export interface SheetLayout {
  readonly pageWidth: number;
  readonly pageHeight: number;
  /** Top-left corner of each card on a page, in the order cards fill it. */
  readonly slots: readonly Point[];
  /** Cut marks drawn once per page, in the margins (never on a card). */
  readonly cutMarks: readonly Segment[];
}

const a4 = { width: mm(210), height: mm(297), columns: 2, rows: 5 };
const cutMarkGap = mm(1);
const cutMarkLength = mm(5);

/**
 * `cr80`: one card per page of exactly card size, for a card printer. `a4`: 2 x 5 cards at
 * true size, edge to edge and centred (the layout of perforated A4 card sheets), with cut
 * marks in the margins on every card edge.
 */
export function sheetLayout(kind: SheetKind): SheetLayout {
  if (kind === 'cr80') return { pageWidth: cardWidth, pageHeight: cardHeight, slots: [{ x: 0, y: 0 }], cutMarks: [] };
  const left = (a4.width - a4.columns * cardWidth) / 2;
  const top = (a4.height - a4.rows * cardHeight) / 2;
  const right = left + a4.columns * cardWidth;
  const bottom = top + a4.rows * cardHeight;
  const slots: Point[] = [];
  for (let row = 0; row < a4.rows; row++) {
    for (let column = 0; column < a4.columns; column++) slots.push({ x: left + column * cardWidth, y: top + row * cardHeight });
  }
  const cutMarks: Segment[] = [];
  for (let column = 0; column <= a4.columns; column++) {
    const x = left + column * cardWidth;
    cutMarks.push({ from: { x, y: top - cutMarkGap - cutMarkLength }, to: { x, y: top - cutMarkGap } });
    cutMarks.push({ from: { x, y: bottom + cutMarkGap }, to: { x, y: bottom + cutMarkGap + cutMarkLength } });
  }
  for (let row = 0; row <= a4.rows; row++) {
    const y = top + row * cardHeight;
    cutMarks.push({ from: { x: left - cutMarkGap - cutMarkLength, y }, to: { x: left - cutMarkGap, y } });
    cutMarks.push({ from: { x: right + cutMarkGap, y }, to: { x: right + cutMarkGap + cutMarkLength, y } });
  }
  return { pageWidth: a4.width, pageHeight: a4.height, slots, cutMarks };
}

// ---- the QR ----

/** ISO/IEC 18004 asks for a quiet zone of 4 modules around the symbol; readers rely on it. */
export const quietZoneModules = 4;

/**
 * Module size: a whole number of dots at 300 dpi (the resolution of most card printers, and
 * half of 600 dpi office printers), so every module prints the same width; 13 dots = 1.1 mm,
 * a 25-module symbol of 27.5 mm, well above the ~22 mm a turnstile reader needs at arm's length.
 */
const printerDotMm = 25.4 / 300;
const moduleDots = 13;
const moduleSize = mm(moduleDots * printerDotMm);

/** One horizontal run of dark modules: drawn as one rectangle. */
export interface ModuleRun {
  readonly row: number;
  readonly column: number;
  readonly length: number;
}

export interface QrSymbol {
  /** The text encoded: formatCardQr(cardId). */
  readonly text: string;
  /** Modules per side, without the quiet zone. */
  readonly size: number;
  readonly runs: readonly ModuleRun[];
}

/**
 * The card's QR at error correction M (DESIGN.md: a version-2 symbol, alphanumeric mode).
 * Dark modules are merged into runs: fewer drawing operations per card, and one filled path
 * shows no hairline seams between neighbouring modules.
 */
export function cardQrSymbol(cardId: string): QrSymbol {
  const text = formatCardQr(cardId);
  const { modules } = createQr(text, { errorCorrectionLevel: 'M' });
  const runs: ModuleRun[] = [];
  for (let row = 0; row < modules.size; row++) {
    let start = -1;
    for (let column = 0; column <= modules.size; column++) {
      const dark = column < modules.size && modules.get(row, column) === 1;
      if (dark && start < 0) start = column;
      if (!dark && start >= 0) {
        runs.push({ row, column: start, length: column - start });
        start = -1;
      }
    }
  }
  return { text, size: modules.size, runs };
}

// ---- text ----

export type FontRole = 'regular' | 'bold' | 'mono';

/** Width of `text` in points when set in `font` at `sizePt`. */
export type MeasureText = (font: FontRole, text: string, sizePt: number) => number;

export interface TextBlock {
  readonly font: FontRole;
  readonly sizePt: number;
  /** Grey level for the fill, 0 black to 1 white. */
  readonly grey: number;
  readonly lines: readonly string[];
  /** Top of the first line; each next line is `lineHeight` lower. */
  readonly x: number;
  readonly y: number;
  readonly lineHeight: number;
  readonly width: number;
}

interface FitSpec {
  readonly font: FontRole;
  readonly maxSizePt: number;
  readonly minSizePt: number;
  readonly maxLines: number;
  readonly width: number;
}

/** Leading as a multiple of the font size: room for Vietnamese stacked marks (Ễ, Ộ) above the caps. */
export const lineSpacing = 1.25;
const sizeStepPt = 0.5;
const ellipsis = '…';

/**
 * The largest size from `maxSizePt` down to `minSizePt` at which `text` wraps into
 * `maxLines` lines of `width`; at the smallest size, what still does not fit is cut with an
 * ellipsis. Text never leaves its box.
 */
export function fitText(text: string, spec: FitSpec, measure: MeasureText): { readonly sizePt: number; readonly lines: readonly string[] } {
  const clean = text.normalize('NFC').replace(/\s+/g, ' ').trim();
  for (let sizePt = spec.maxSizePt; sizePt >= spec.minSizePt; sizePt -= sizeStepPt) {
    const lines = wrap(clean, spec, sizePt, measure);
    if (lines.length <= spec.maxLines) return { sizePt, lines };
  }
  const sizePt = spec.minSizePt;
  const lines = wrap(clean, spec, sizePt, measure).slice(0, spec.maxLines);
  const fits = (line: string) => measure(spec.font, line, sizePt) <= spec.width;
  let last = Array.from(lines[lines.length - 1] ?? '');
  while (last.length > 0 && !fits(`${last.join('').trimEnd()}${ellipsis}`)) last = last.slice(0, -1);
  lines[lines.length - 1] = `${last.join('').trimEnd()}${ellipsis}`;
  return { sizePt, lines };
}

/** Greedy word wrap; a word wider than a whole line is broken between characters. */
function wrap(text: string, spec: FitSpec, sizePt: number, measure: MeasureText): string[] {
  const fits = (line: string) => measure(spec.font, line, sizePt) <= spec.width;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line !== '') lines.push(line);
    line = '';
    for (const char of Array.from(word)) {
      if (line !== '' && !fits(line + char)) {
        lines.push(line);
        line = '';
      }
      line += char;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

// The registry and the API name cards by their printed number too; the format lives with the card's.
export { groupCardNumber } from '../../protocol/credentials/card.js';

// ---- one card ----

export interface CardContent {
  readonly cardId: string;
  readonly name: string;
  readonly unit: string;
  readonly scope: string;
}

export interface CardFace {
  readonly qr: QrSymbol & { readonly x: number; readonly y: number; readonly moduleSize: number };
  readonly texts: readonly TextBlock[];
}

/** Card printers do not print reliably to the edge; nothing but the QR's white quiet zone comes closer. */
const safeMargin = mm(3.5);
const numberSizePt = 9;

/**
 * One card, positions relative to its top-left corner:
 *
 *   qrgate · scope          +-----------+
 *   Name (bold, shrinks,    |    QR     |
 *   up to 3 lines)          |           |
 *   Unit (up to 2 lines)    +-----------+
 *   0HDK M1XD BYPC AQMT SWJB BSE9 AX
 */
export function cardFace(card: CardContent, measure: MeasureText): CardFace {
  const symbol = cardQrSymbol(card.cardId);
  const qrSide = (symbol.size + 2 * quietZoneModules) * moduleSize;
  const numberLineHeight = numberSizePt * lineSpacing;
  const numberTop = cardHeight - safeMargin - numberLineHeight;
  // The quiet zone is white and may reach into the margin; the QR sits at the right, centred
  // in the height above the card number.
  const qrX = cardWidth - mm(1) - qrSide;
  const qrY = Math.max(0, (numberTop - qrSide) / 2);
  const columnWidth = qrX - safeMargin - mm(1);

  const texts: TextBlock[] = [];
  let y = safeMargin;
  const place = (text: string, spec: FitSpec, grey: number, gapAfter: number) => {
    const fitted = fitText(text, spec, measure);
    const lineHeight = fitted.sizePt * lineSpacing;
    texts.push({ font: spec.font, sizePt: fitted.sizePt, grey, lines: fitted.lines, x: safeMargin, y, lineHeight, width: spec.width });
    y += fitted.lines.length * lineHeight + gapAfter;
  };
  place(card.scope === '' ? 'qrgate' : `qrgate · ${card.scope}`, { font: 'regular', maxSizePt: 6.5, minSizePt: 5, maxLines: 1, width: columnWidth }, 0.4, mm(2));
  place(card.name, { font: 'bold', maxSizePt: 12, minSizePt: 7, maxLines: 3, width: columnWidth }, 0, mm(1.2));
  place(card.unit, { font: 'regular', maxSizePt: 8, minSizePt: 6, maxLines: 2, width: columnWidth }, 0.15, 0);
  const numberWidth = cardWidth - 2 * safeMargin;
  texts.push({
    font: 'mono',
    sizePt: numberSizePt,
    grey: 0,
    lines: [groupCardNumber(card.cardId)],
    x: safeMargin,
    y: numberTop,
    lineHeight: numberLineHeight,
    width: numberWidth,
  });
  return { qr: { ...symbol, x: qrX + quietZoneModules * moduleSize, y: qrY + quietZoneModules * moduleSize, moduleSize }, texts };
}
