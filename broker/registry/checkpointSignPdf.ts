import type { Checkpoint } from '../store/centralStore.js';
import { createDejaVuDocument } from './cardsPdf.js';

/** The words on a sign, in the operator's language (the console passes them). */
export interface SignLabels {
  readonly heading: string;
  readonly code: string;
  readonly unit: string;
  /** How an inspector reads the counts: e.g. "Look up this code at /check". */
  readonly hint: string;
}

const a4 = { width: 595.28, height: 841.89 };
const margin = 56;

/**
 * A checkpoint's sign, one A4 page to print and fix at the gate: its name, its 14-digit
 * code (what an inspector types at /check) as large as fits, and its unit. In DejaVu, like
 * the cards, so Vietnamese names print whole. Small (one page), so it is made in memory.
 */
export async function checkpointSignPdf(checkpoint: Pick<Checkpoint, 'name' | 'code' | 'unit'>, labels: SignLabels): Promise<Buffer> {
  const doc = createDejaVuDocument(`${checkpoint.name} · ${checkpoint.code}`);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.addPage({ size: [a4.width, a4.height], margin });
  const width = a4.width - 2 * margin;
  doc.font('regular').fontSize(16).fillColor('#444444').text(labels.heading, margin, margin + 20, { width, align: 'center' });
  doc.font('bold').fontSize(40).fillColor('#000000').text(checkpoint.name, margin, margin + 80, { width, align: 'center' });
  const codeTop = Math.max(doc.y + 60, 330);
  doc.font('regular').fontSize(16).fillColor('#444444').text(labels.code, margin, codeTop, { width, align: 'center' });
  // The largest size at which the 14 digits fit on one line.
  doc.font('mono');
  const codeSize = Math.min(72, (72 * width) / doc.fontSize(72).widthOfString(checkpoint.code));
  doc.fontSize(codeSize).fillColor('#000000').text(checkpoint.code, margin, codeTop + 28, { width, align: 'center', lineBreak: false });
  const unitTop = codeTop + 28 + codeSize * 1.4 + 40;
  if (checkpoint.unit !== '') {
    doc.font('regular').fontSize(16).fillColor('#444444').text(labels.unit, margin, unitTop, { width, align: 'center' });
    doc.font('bold').fontSize(26).fillColor('#000000').text(checkpoint.unit, margin, unitTop + 26, { width, align: 'center' });
  }
  doc.font('regular').fontSize(14).fillColor('#444444').text(labels.hint, margin, a4.height - margin - 60, { width, align: 'center' });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
