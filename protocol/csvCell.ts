/** RFC 4180 quoting, only where a cell needs it: one rule for every CSV qrgate writes (sample members, the in/out log export). */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
