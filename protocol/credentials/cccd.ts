import { isDdMmYyyy } from './dates.js';
import { accept, refuse, type ParseResult } from './types.js';

/**
 * The QR on a Vietnamese chip-based citizen ID card (CCCD), `|`-separated:
 *
 *   7 fields: ID(12) | old CMND (9 or 12 digits, or empty) | name | birth ddmmyyyy | gender | address | issue ddmmyyyy
 *   6 fields: ID(12) | name | birth ddmmyyyy | gender | address | issue ddmmyyyy
 *
 * Only the 12-digit ID is used. The ID and the dates are validated because a misread or
 * a hand-made QR shows there first. Name, gender and address are not validated at all
 * (beyond the control-character check every input gets): a keyboard-wedge scanner mangles
 * Vietnamese diacritics, and a garbled name must never cost a person their entry.
 */

export const cccdFieldCounts = [6, 7] as const;

export function parseCccdFields(fields: readonly string[]): ParseResult {
  if (fields.length !== 6 && fields.length !== 7) {
    return refuse(`CCCD QR has ${fields.length} fields, expected 6 or 7`);
  }
  const withOldId = fields.length === 7;
  const id = fields[0]!;
  if (!/^\d{12}$/.test(id)) return refuse(`CCCD QR ID field is not 12 digits (${describeShape(id)})`);
  if (withOldId) {
    const oldId = fields[1]!;
    // Old CMNDs have 9 digits; those issued in the last years before CCCD have 12.
    if (oldId !== '' && !/^(\d{9}|\d{12})$/.test(oldId)) {
      return refuse(`CCCD QR old CMND field is not empty, 9 or 12 digits (${describeShape(oldId)})`);
    }
  }
  const birth = fields[withOldId ? 3 : 2]!;
  const issue = fields[withOldId ? 6 : 5]!;
  if (!isDdMmYyyy(birth)) return refuse(`CCCD QR birth date is not a ddmmyyyy date (${describeShape(birth)})`);
  if (!isDdMmYyyy(issue)) return refuse(`CCCD QR issue date is not a ddmmyyyy date (${describeShape(issue)})`);
  return accept('cccd', 'citizen', id);
}

/** Length and character classes of a field, never its content (it may be an ID number). */
export function describeShape(field: string): string {
  if (field === '') return 'empty';
  const classes: string[] = [];
  if (/\d/.test(field)) classes.push('digits');
  if (/\p{L}/u.test(field)) classes.push('letters');
  if (/[^\d\p{L}]/u.test(field)) classes.push('other characters');
  return `${[...field].length} characters: ${classes.join(', ')}`;
}
