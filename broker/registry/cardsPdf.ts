import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PDFDocument from 'pdfkit';
import { cardFace, sheetLayout, type CardContent, type CardFace, type FontRole, type MeasureText, type Point, type SheetKind } from './cardSheet.js';

/**
 * Paints cards (cardSheet.ts decides where everything goes) into a PDF with
 * pdfkit, streaming: each finished page is written out before the next is made, so 10,000
 * cards never sit in memory together.
 *
 * Names and addresses are Vietnamese; the 14 standard PDF fonts cannot draw "Nguyễn" or
 * "Phường". DejaVu Sans covers Vietnamese completely and comes from npm (dejavu-fonts-ttf,
 * Bitstream Vera licence: free to embed), so a clean CI machine renders the same cards as
 * an operator's laptop; pdfkit embeds only the glyphs used.
 */

const require = createRequire(import.meta.url);

const fontModules: Readonly<Record<FontRole, string>> = {
  regular: 'dejavu-fonts-ttf/ttf/DejaVuSansCondensed.ttf',
  bold: 'dejavu-fonts-ttf/ttf/DejaVuSansCondensed-Bold.ttf',
  mono: 'dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf',
};

/** The TTF file a role is set in. */
export function fontFile(role: FontRole): string {
  return require.resolve(fontModules[role]);
}

/**
 * A pdfkit document with the card fonts registered under their role names. Pages are added
 * by the caller, each with its own size.
 */
export function createCardsDocument(): PDFKit.PDFDocument {
  return createDejaVuDocument('qrgate cards');
}

/** A pdfkit document, no page yet, with DejaVu registered as `regular`, `bold` and `mono`: for anything printed with Vietnamese in it. */
export function createDejaVuDocument(title: string): PDFKit.PDFDocument {
  const doc = new PDFDocument({ autoFirstPage: false, margin: 0, info: { Title: title, Creator: 'qrgate' } });
  for (const role of Object.keys(fontModules) as FontRole[]) doc.registerFont(role, fontFile(role));
  return doc;
}

/** Text widths as pdfkit will set them. */
export function documentMeasure(doc: PDFKit.PDFDocument): MeasureText {
  return (font, text, sizePt) => doc.font(font).fontSize(sizePt).widthOfString(text);
}

function greyHex(level: number): string {
  const byte = Math.round(level * 255)
    .toString(16)
    .padStart(2, '0');
  return `#${byte}${byte}${byte}`;
}

/**
 * pdfkit caches the layout of every word it sets, for the life of the document. Names and
 * units repeat their words from card to card (Nguyễn, Thị, Phường…), but card numbers never
 * do: cached, their groups grew the heap by ~10 KB a card. Passing `features` (none) makes
 * pdfkit lay them out afresh each time and cache nothing.
 */
const cachedText: PDFKit.Mixins.TextOptions = { lineBreak: false };
const uncachedText: PDFKit.Mixins.TextOptions = { lineBreak: false, features: [] };

export function drawCard(doc: PDFKit.PDFDocument, face: CardFace, at: Point): void {
  const { qr } = face;
  // All dark modules in one path, filled once: no seams between neighbouring modules.
  for (const run of qr.runs) {
    doc.rect(at.x + qr.x + run.column * qr.moduleSize, at.y + qr.y + run.row * qr.moduleSize, run.length * qr.moduleSize, qr.moduleSize);
  }
  doc.fill('#000000');
  for (const block of face.texts) {
    doc.font(block.font).fontSize(block.sizePt).fillColor(greyHex(block.grey));
    block.lines.forEach((line, i) => {
      doc.text(line, at.x + block.x, at.y + block.y + i * block.lineHeight, block.font === 'mono' ? uncachedText : cachedText);
    });
  }
}

export interface CardsPdfOptions {
  readonly sheet: SheetKind;
  /** The PDF to write; it appears only once complete (written beside it, then renamed). */
  readonly file: string;
}

export interface CardsPdfResult {
  readonly cards: number;
  readonly pages: number;
  readonly bytes: number;
}

/** Lets the pages made so far reach the file before more are made. */
async function drained(doc: Readable, out: Writable, failed: () => unknown): Promise<void> {
  for (;;) {
    const failure = failed();
    if (failure !== undefined) throw failure;
    if (out.writableNeedDrain) await once(out, 'drain');
    else if (doc.readableLength > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    else return;
  }
}

/**
 * Paints the cards into `out` page by page (read as they come: an async source is read a
 * page of the registry at a time), waiting for `out` to take each page before the
 * next is made: a slow reader (an HTTP client) holds back the painting instead of letting
 * pages pile up in memory. Ends `out` when done; on failure destroys the document and
 * rejects (`out` is the caller's to clean up).
 */
export async function paintCardsPdf(cards: Iterable<CardContent> | AsyncIterable<CardContent>, sheet: SheetKind, out: Writable): Promise<{ readonly cards: number; readonly pages: number }> {
  const layout = sheetLayout(sheet);
  const doc = createCardsDocument();
  const measure = documentMeasure(doc);
  let failure: unknown;
  const written = pipeline(doc, out).catch((err: unknown) => {
    failure = err;
  });
  let count = 0;
  let pages = 0;
  try {
    for await (const card of cards) {
      const slot = count % layout.slots.length;
      if (slot === 0) {
        await drained(doc, out, () => failure);
        doc.addPage({ size: [layout.pageWidth, layout.pageHeight], margin: 0 });
        pages++;
        drawCutMarks(doc, layout.cutMarks);
      }
      drawCard(doc, cardFace(card, measure), layout.slots[slot]!);
      count++;
    }
    doc.end();
    await written;
    if (failure !== undefined) throw failure;
  } catch (err) {
    doc.destroy();
    await written;
    throw err;
  }
  return { cards: count, pages };
}

export async function writeCardsPdf(cards: Iterable<CardContent> | AsyncIterable<CardContent>, options: CardsPdfOptions): Promise<CardsPdfResult> {
  const partFile = `${options.file}.part`;
  // The cards in it work at the gates: readable by the operator only.
  const out = createWriteStream(partFile, { mode: 0o600 });
  try {
    const painted = await paintCardsPdf(cards, options.sheet, out);
    renameSync(partFile, options.file);
    return { ...painted, bytes: statSync(options.file).size };
  } catch (err) {
    out.destroy();
    rmSync(partFile, { force: true });
    throw err;
  }
}

function drawCutMarks(doc: PDFKit.PDFDocument, marks: ReturnType<typeof sheetLayout>['cutMarks']): void {
  if (marks.length === 0) return;
  for (const mark of marks) doc.moveTo(mark.from.x, mark.from.y).lineTo(mark.to.x, mark.to.y);
  doc.lineWidth(0.25).stroke('#000000');
}
