import { describeShape } from './cccd.js';
import { isIsoDate } from './dates.js';
import { accept, refuse, type ParseResult } from './types.js';

/**
 * The PC-Covid / Hue-S personal QR: `IDNUMBER|NAME|YYYY-MM-DD|type|QID|EXT`, EXT made of
 * `<`-separated sub-fields (not used). Six fields, like a 6-field CCCD QR; the ISO birth
 * date in field 3 tells them apart (CCCD writes ddmmyyyy).
 *
 * A person registered by CMND/CCCD number is the same person here (namespace `citizen`).
 * People registered without one (children, foreigners) carry only the app's QID, an opaque
 * token (namespace `app`).
 */

const appIdPattern = /^[A-Za-z0-9-]{4,64}$/;

export function isAppId(text: string): boolean {
  return appIdPattern.test(text);
}

export function parsePcCovidFields(fields: readonly string[]): ParseResult {
  if (fields.length !== 6) return refuse(`PC-Covid QR has ${fields.length} fields, expected 6`);
  const [idNumber, , birth, , qid] = fields as [string, string, string, string, string, string];
  if (!isIsoDate(birth)) return refuse(`PC-Covid QR birth date is not a real yyyy-mm-dd date (${describeShape(birth)})`);
  if (/^(\d{9}|\d{12})$/.test(idNumber)) return accept('pccovid', 'citizen', idNumber);
  if (isAppId(qid)) return accept('pccovid', 'app', qid);
  return refuse(
    `PC-Covid QR has neither a 9- or 12-digit ID number (${describeShape(idNumber)}) nor a usable QID (${describeShape(qid)})`,
  );
}
