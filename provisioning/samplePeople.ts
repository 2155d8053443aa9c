import { randomInt } from 'node:crypto';
import { formatCardQr, generateCardId } from '../protocol/credentials/card.js';

/**
 * Made-up people for the demo and the benchmarks, with the QR texts their credentials
 * carry. Nothing here is real personal data.
 */

export type SampleStatus = 'allow' | 'deny' | 'check';

export interface SamplePerson {
  readonly name: string;
  /** 12-digit citizen ID (CCCD), invented. */
  readonly idNumber: string;
  /** Canonical qrgate card id, when the person holds a card. */
  readonly cardId: string | null;
  readonly status: SampleStatus;
}

const familyNames = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Võ', 'Đặng', 'Bùi'];
const middleNames = ['Văn', 'Thị', 'Hữu', 'Ngọc', 'Minh', 'Thanh', 'Đức', 'Hồng'];
const givenNames = ['An', 'Bình', 'Châu', 'Dũng', 'Hà', 'Hùng', 'Lan', 'Long', 'Mai', 'Nhung', 'Phúc', 'Quân', 'Thảo', 'Tú', 'Yến'];
const addresses = ['Phường Phú Hội, Thành phố Huế, Thừa Thiên Huế', 'Xã Hương Vinh, Thị xã Hương Trà, Thừa Thiên Huế', 'Phường An Cựu, Thành phố Huế'];

const pick = <T>(items: readonly T[], random: (max: number) => number): T => items[random(items.length)]!;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `index` makes ids distinct without a lookup: benchmarks create a million of them. */
export function sampleIdNumber(index: number): string {
  // 0 + 2-digit province (046: Thừa Thiên Huế) + gender/century digit + 2-digit year + 6-digit serial
  const serial = index % 1_000_000;
  const year = 40 + Math.floor(index / 1_000_000) % 60;
  return `046${index % 2 === 0 ? 0 : 1}${pad(year, 2)}${pad(serial, 6)}`;
}

export function samplePerson(index: number, status: SampleStatus, withCard: boolean, random = randomInt): SamplePerson {
  const name = `${pick(familyNames, random)} ${pick(middleNames, random)} ${pick(givenNames, random)}`;
  return { name, idNumber: sampleIdNumber(index), cardId: withCard ? generateCardId() : null, status };
}

const ddmmyyyy = (d: number, m: number, y: number) => `${pad(d, 2)}${pad(m, 2)}${y}`;

/** The QR on the back of a CCCD card: 7 fields, or 6 when the old CMND field is absent. */
export function cccdQr(person: SamplePerson, variant: 6 | 7 = 7, random = randomInt): string {
  const birth = ddmmyyyy(1 + random(28), 1 + random(12), 1960 + random(45));
  const issued = ddmmyyyy(1 + random(28), 1 + random(12), 2021 + random(4));
  const gender = person.name.includes(' Thị ') ? 'Nữ' : 'Nam';
  const fields = [person.idNumber, pad(random(1_000_000_000), 9), person.name, birth, gender, pick(addresses, random), issued];
  if (variant === 6) fields.splice(1, 1);
  return fields.join('|');
}

/** The PC-Covid / Hue-S personal QR: IDNUMBER|NAME|YYYY-MM-DD|type|QID|EXT. */
export function pcCovidQr(person: SamplePerson, random = randomInt): string {
  const birth = `${1960 + random(45)}-${pad(1 + random(12), 2)}-${pad(1 + random(28), 2)}`;
  return [person.idNumber, person.name, birth, '1', `QID${pad(random(1_000_000), 6)}`, 'HUE<46<0'].join('|');
}

export function cardQr(person: SamplePerson): string {
  if (!person.cardId) throw new Error('this person holds no card');
  return formatCardQr(person.cardId);
}

/** Any one of the QRs the person may show. */
export function someQr(person: SamplePerson, random = randomInt): string {
  const choice = random(person.cardId ? 3 : 2);
  if (choice === 2) return cardQr(person);
  return choice === 0 ? cccdQr(person, random(2) === 0 ? 6 : 7, random) : pcCovidQr(person, random);
}

/** Bytes a scanner might deliver from a damaged or foreign code. */
export function garbageQr(random = randomInt): string {
  const samples = ['http://example.invalid/promo', 'WIFI:S:guest;T:WPA;P:12345678;;', '123', '|||', `QG1:${'Z'.repeat(20)}`];
  return pick(samples, random);
}
