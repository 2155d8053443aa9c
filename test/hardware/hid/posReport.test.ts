import { describe, expect, it } from 'vitest';
import { parsePosReport, PosReportDecoder } from '../../../hardware/scanners/hid/posReport.js';
import { posReportsFor } from '../../fakes/hidReports.js';
import { CCCD_SAMPLE } from '../scannerContract.js';

describe('parsePosReport', () => {
  it('reads the length byte, the AIM symbology identifier, the data and the continuation bit', () => {
    const [report] = posReportsFor(Buffer.from('HELLO'), { symbology: ']Q1' });
    expect(report).toHaveLength(64);
    const chunk = parsePosReport(Uint8Array.from(report!));
    expect(chunk).toMatchObject({ symbology: ']Q1', more: false, clamped: false });
    expect(Buffer.from(chunk!.data).toString()).toBe('HELLO');
  });

  it('takes a 63-byte report as the same layout without the report ID', () => {
    const [report] = posReportsFor(Buffer.from('NOID'), { withReportId: false });
    expect(report).toHaveLength(63);
    expect(Buffer.from(parsePosReport(Uint8Array.from(report!))!.data).toString()).toBe('NOID');
  });

  it('ignores 64-byte reports with another report ID (status, settings)', () => {
    const report = posReportsFor(Buffer.from('X'))[0]!;
    report[0] = 0x04;
    expect(parsePosReport(Uint8Array.from(report))).toBeNull();
  });

  it('clamps a length byte larger than the data area', () => {
    const report = posReportsFor(Buffer.from('ABC'))[0]!;
    report[1] = 200;
    const chunk = parsePosReport(Uint8Array.from(report))!;
    expect(chunk.clamped).toBe(true);
    expect(chunk.data).toHaveLength(56);
  });

  it('reads a short report with ID 2 as header and data, without continuation', () => {
    const chunk = parsePosReport(Uint8Array.from([0x02, 3, 0x5d, 0x51, 0x31, 0x41, 0x42, 0x43]))!;
    expect(Buffer.from(chunk.data).toString()).toBe('ABC');
    expect(chunk.more).toBe(false);
  });
});

describe('PosReportDecoder', () => {
  it('joins continued reports into one frame with UTF-8 names intact', () => {
    const decoder = new PosReportDecoder();
    const reports = posReportsFor(Buffer.from(CCCD_SAMPLE, 'utf8'));
    expect(reports.length).toBeGreaterThan(2);
    const frames = reports.map((r) => decoder.push(Uint8Array.from(r)));
    expect(frames.slice(0, -1).every((f) => f === null)).toBe(true);
    expect(frames.at(-1)).toEqual({ text: CCCD_SAMPLE, byteLength: Buffer.byteLength(CCCD_SAMPLE) });
    expect(decoder.lastSymbology).toBe(']Q1');
  });

  it('strips a trailing CR/LF suffix and flags bad bytes like the serial framer', () => {
    const decoder = new PosReportDecoder();
    expect(decoder.push(Uint8Array.from(posReportsFor(Buffer.from('046090001234\r\n'))[0]!))).toEqual({ text: '046090001234', byteLength: 12 });
    expect(decoder.push(Uint8Array.from(posReportsFor(Buffer.from([0x41, 0xff]))[0]!))?.problem).toBe('invalid-utf8');
    expect(decoder.push(Uint8Array.from(posReportsFor(Buffer.from('A\x02B'))[0]!))?.problem).toBe('control-bytes');
  });

  it('is bounded: an over-long scan is too-long and the next is fine', () => {
    const decoder = new PosReportDecoder({ maxFrameBytes: 64 });
    const long = posReportsFor(Buffer.alloc(300, 0x39)).map((r) => decoder.push(Uint8Array.from(r)));
    expect(long.at(-1)).toEqual({ text: '', byteLength: 300, problem: 'too-long' });
    expect(decoder.push(Uint8Array.from(posReportsFor(Buffer.from('OK'))[0]!))).toEqual({ text: 'OK', byteLength: 2 });
  });

  it('counts ignored reports and makes no frame of an empty scan', () => {
    const decoder = new PosReportDecoder();
    expect(decoder.push(Uint8Array.from([0x05, 1, 2]))).toBeNull();
    expect(decoder.ignoredReports).toBe(1);
    expect(decoder.push(Uint8Array.from(posReportsFor(new Uint8Array(0))[0]!))).toBeNull();
  });
});
