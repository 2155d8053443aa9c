import { open } from 'node:fs/promises';
import { membersCsvHeader } from '../broker/registry/membersCsv.js';
import { csvCell } from '../protocol/csvCell.js';
import { samplePerson, type SampleStatus } from './samplePeople.js';

/**
 * A members file (`qrgate members import`) of invented people, for the demo, the tests and
 * `qrgate bench lists` (a million rows). Row i is always the same person (sampleIdNumber(i)
 * plus picks drawn from i and the seed), so a second file with another seed is the same
 * people with changed details: an import of it is all updates.
 */

export interface SampleMembersOptions {
  /** Index of the first person (their id is sampleIdNumber(firstIndex)). Default 0. */
  readonly firstIndex?: number;
  /** Scopes the people are spread over, round robin. Default ["default"]. */
  readonly scopes?: readonly string[];
  /** Changes every name, phone, address, unit and status pick, never the ids. Default 1. */
  readonly seed?: number;
  /** End lines with CRLF, as a spreadsheet on Windows saves them. Default false. */
  readonly crlf?: boolean;
}

// Addresses hold commas, so the writer's quoting is exercised on every file.
const streets = ['Lê Lợi', 'Hùng Vương', 'Trần Hưng Đạo', 'Nguyễn Huệ', 'Điện Biên Phủ', 'Phan Đình Phùng', 'Bà Triệu'];
const wards = ['Phường Phú Hội, Thành phố Huế', 'Phường An Cựu, Thành phố Huế', 'Xã Hương Vinh, Thị xã Hương Trà', 'Phường Vĩnh Ninh, Thành phố Huế'];
const units = ['Công ty May Huế', 'Nhà máy Bia Phú Bài', 'KCN Phú Bài - Xưởng 2', 'Tổ dân phố 5', 'Bệnh viện Trung ương Huế', 'Trường THPT Quốc Học'];

/** Small, fast and seedable (mulberry32): a million rows need deterministic picks, not good randomness. */
function rowRandom(index: number, seed: number): (max: number) => number {
  let state = (Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
  return (max) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % max) | 0;
  };
}

function statusFor(draw: number): SampleStatus {
  // Mostly allowed, as on a real site; a few flagged for a manual check, a few refused.
  return draw < 94 ? 'allow' : draw < 97 ? 'check' : 'deny';
}

/** One data line (without its line end) for person `index`. */
export function sampleMemberLine(index: number, options: SampleMembersOptions = {}): string {
  const { seed = 1, scopes = ['default'] } = options;
  const random = rowRandom(index, seed);
  const status = statusFor(random(100));
  const person = samplePerson(index, status, false, random);
  const phone = `09${String(random(100_000_000)).padStart(8, '0')}`;
  const address = `${1 + random(300)} ${streets[random(streets.length)]}, ${wards[random(wards.length)]}`;
  const unit = units[random(units.length)]!;
  const scope = scopes[index % scopes.length]!;
  return [person.name, phone, address, unit, scope, person.idNumber, status].map(csvCell).join(',');
}

/**
 * Writes `count` people to `file` (replacing it), in chunks so a million rows take a few
 * seconds and little memory. Resolves with the bytes written.
 */
export async function writeSampleMembersCsv(file: string, count: number, options: SampleMembersOptions = {}): Promise<number> {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a whole number, got ${count}`);
  const firstIndex = options.firstIndex ?? 0;
  const eol = options.crlf ? '\r\n' : '\n';
  const handle = await open(file, 'w');
  let bytes = 0;
  try {
    let chunk = `${membersCsvHeader}${eol}`;
    for (let i = 0; i < count; i++) {
      chunk += `${sampleMemberLine(firstIndex + i, options)}${eol}`;
      if (chunk.length >= 1 << 20) {
        bytes += (await handle.write(chunk)).bytesWritten;
        chunk = '';
      }
    }
    if (chunk !== '') bytes += (await handle.write(chunk)).bytesWritten;
  } finally {
    await handle.close();
  }
  return bytes;
}
