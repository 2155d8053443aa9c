/**
 * Date fields in ID QRs. They are validated only to catch a misread or a made-up QR: a
 * field that is not a real calendar date means we are not reading what we think we are.
 */

// Oldest plausible birth year on a card in use; newest plausible issue year.
const minYear = 1880;
const maxYear = 2200;

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < minYear || year > maxYear || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/** `ddmmyyyy`, as on a CCCD QR. */
export function isDdMmYyyy(text: string): boolean {
  const match = /^(\d{2})(\d{2})(\d{4})$/.exec(text);
  return match !== null && isCalendarDate(Number(match[3]), Number(match[2]), Number(match[1]));
}

/** `yyyy-mm-dd` shape only, to tell a PC-Covid QR from a CCCD QR. */
export function looksLikeIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text);
}

/** `yyyy-mm-dd`, as on a PC-Covid QR, and a real date. */
export function isIsoDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}
