import { decodeFrameBytes } from '../framer.js';
import type { DecodedFrame } from './keyboardReport.js';

/**
 * Decoder for HID Point-of-Sale barcode scanner reports (usage page 0x8C, "HID Point of
 * Sale Usage Tables" 1.02, Scanned Data Report, usage 0x12). The spec lets the report
 * descriptor place the fields; the layout every HID-POS scanner we know of uses (Honeywell,
 * Zebra, Datalogic; 64-byte input report 2) is:
 *
 * ```
 * [0]      report ID 0x02 (present when node-hid hands over numbered reports)
 * [1]      number of data bytes in this report (0..56)
 * [2..4]   Symbology Identifier 1..3 (usages 0x91..0x93): the AIM identifier, "]Q1" for QR
 * [5..60]  Decoded Data (usage 0xFE): raw bytes, zero padded
 * [61..62] vendor specific (Honeywell puts its own code ID at [61])
 * [63]     bit 0: Decoded Data Continued (usage 0xFF): more of this scan follows
 * ```
 *
 * Defensive about what it cannot know: a 63-byte report is taken as the same layout without
 * the report ID; a 64-byte report with another ID (status, settings) is not scan data and is
 * ignored; a length byte larger than the data area is clamped to it; a shorter report with
 * ID 2 is read as header + data with no continuation flag. The data bytes are the code's own
 * bytes (no keyboard layout, no Alt codes), so UTF-8 names survive intact; they are checked
 * like serial frames (`invalid-utf8`, `control-bytes`, `too-long`). A trailing CR/LF, which
 * some scanners keep appending in POS mode, is removed.
 */

export const SCANNED_DATA_REPORT_ID = 0x02;
const FULL_REPORT_BYTES = 63; // without the report ID
const DATA_OFFSET = 4; // after the length byte and three symbology bytes
const DATA_CAPACITY = 56;
const FLAGS_OFFSET = 62;

export interface PosReportChunk {
  /** AIM symbology identifier (e.g. "]Q1"), '' when not printable. */
  readonly symbology: string;
  readonly data: Uint8Array;
  /** More of the same scan follows in the next report. */
  readonly more: boolean;
  /** The length byte claimed more than the report can carry. */
  readonly clamped: boolean;
}

/** Reads one report; null when it is not a scanned-data report. */
export function parsePosReport(report: Uint8Array): PosReportChunk | null {
  let body: Uint8Array;
  if (report.length === FULL_REPORT_BYTES) body = report;
  else if (report[0] === SCANNED_DATA_REPORT_ID && report.length > DATA_OFFSET + 1) body = report.subarray(1);
  else return null;
  const full = body.length >= FULL_REPORT_BYTES;
  const capacity = full ? DATA_CAPACITY : body.length - DATA_OFFSET;
  const claimed = body[0]!;
  const length = Math.min(claimed, capacity);
  const sym = body.subarray(1, DATA_OFFSET);
  const printable = [...sym].every((b) => b >= 0x20 && b < 0x7f);
  return {
    symbology: printable ? Buffer.from(sym).toString('latin1') : '',
    data: body.subarray(DATA_OFFSET, DATA_OFFSET + length),
    more: full ? (body[FLAGS_OFFSET]! & 0x01) === 1 : false,
    clamped: claimed > capacity,
  };
}

export interface PosReportDecoderOptions {
  /** Default 1024. */
  readonly maxFrameBytes?: number;
}

/** Joins continued reports into frames; bounded like the serial framer. */
export class PosReportDecoder {
  private readonly buffer: Buffer;
  private length = 0;
  private overflowBytes = 0;
  private ignored = 0;
  private clamped = 0;
  /** The symbology of the last completed scan. */
  lastSymbology = '';

  constructor(private readonly options: PosReportDecoderOptions = {}) {
    // + 2 for a trailing CR LF that is stripped.
    this.buffer = Buffer.allocUnsafe((options.maxFrameBytes ?? 1024) + 2);
  }

  get pending(): boolean {
    return this.length > 0 || this.overflowBytes > 0;
  }

  /** Reports skipped because they were not scanned data. */
  get ignoredReports(): number {
    return this.ignored;
  }

  /** Reports whose length byte had to be clamped (a device with another layout). */
  get clampedReports(): number {
    return this.clamped;
  }

  push(report: Uint8Array): DecodedFrame | null {
    const chunk = parsePosReport(report);
    if (!chunk) {
      this.ignored++;
      return null;
    }
    if (chunk.clamped) this.clamped++;
    for (const byte of chunk.data) {
      if (this.length < this.buffer.length) this.buffer[this.length++] = byte;
      else this.overflowBytes++;
    }
    if (chunk.more) return null;
    this.lastSymbology = chunk.symbology;
    return this.endFrame();
  }

  reset(): void {
    this.length = 0;
    this.overflowBytes = 0;
  }

  private endFrame(): DecodedFrame | null {
    let length = this.length;
    if (this.overflowBytes === 0) {
      while (length > 0 && (this.buffer[length - 1] === 0x0a || this.buffer[length - 1] === 0x0d)) length--;
    }
    const byteLength = length + this.overflowBytes;
    const bytes = this.buffer.subarray(0, length);
    this.reset();
    if (byteLength === 0) return null;
    if (byteLength > (this.options.maxFrameBytes ?? 1024)) return { text: '', byteLength, problem: 'too-long' };
    const { text, problem } = decodeFrameBytes(bytes);
    return problem ? { text, byteLength, problem } : { text, byteLength };
  }
}
