import { normaliseCredentialId } from '../../protocol/credentials/ids.js';
import { listScopeSchema } from '../../protocol/lists/index.js';

/**
 * One person's registry fields, checked and normalised the same way whether they come from
 * a row of `qrgate members import` or from the options of `members update` / `set-status`.
 * Problems describe the shape of what is wrong and never quote the value: the ID number is
 * a secret, and names, phones and addresses are personal data that end up in terminals,
 * tickets and chat.
 */

export const memberStatuses = ['allow', 'deny', 'check'] as const;
export type MemberStatus = (typeof memberStatuses)[number];

/** The members file's columns, in the order its header must list them. */
export const memberColumns = ['name', 'phone', 'address', 'unit', 'scope', 'idNumber', 'status'] as const;
export type MemberColumn = (typeof memberColumns)[number];

/** The fields besides the ID number: what `members update` and `set-status` may change. */
export const memberDetailFields = ['name', 'phone', 'address', 'unit', 'scope', 'status'] as const satisfies readonly MemberColumn[];

/** What the registry stores about a person besides their ID. */
export interface MemberDetails {
  readonly name: string;
  /** Digits only, with a leading "+" when it was written with one. */
  readonly phone: string;
  /** May be empty. */
  readonly address: string;
  readonly unit: string;
  readonly scope: string;
  readonly status: MemberStatus;
}

export interface MemberRow extends MemberDetails {
  /** Normalised as a scan normalises it (9 or 12 digits). Secret: hash it, mask it, drop it. */
  readonly idNumber: string;
}

/**
 * What kind of wrong, for a reader in another language: `encoding` (the bytes were not UTF-8,
 * the file needs saving again) or `invalid` (the value breaks the field's rule).
 */
export type FieldProblemKind = 'encoding' | 'invalid';

export interface FieldProblem {
  readonly field: MemberColumn;
  readonly kind: FieldProblemKind;
  readonly message: string;
}

export type FieldResult<T extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly kind: FieldProblemKind; readonly message: string };

const maxLength = { name: 100, address: 300, unit: 100 } as const;

const invalid = (message: string, kind: FieldProblemKind = 'invalid'): { ok: false; kind: FieldProblemKind; message: string } => ({ ok: false, kind, message });

/**
 * Spreadsheet exports differ in spacing and in how diacritics are composed ("ễ" as one code
 * point or as "e" plus two combining marks); NFC and single spaces make the same name the
 * same string, so a re-import is "unchanged" rather than "updated".
 */
function text(raw: string, limit: number, required: boolean): FieldResult {
  // U+FFFD is what a decoder puts where bytes were not UTF-8: a file saved as Windows-1258.
  if (raw.includes('\uFFFD')) return invalid('is not valid UTF-8 (save the file as "CSV UTF-8")', 'encoding');
  // The checks skip the work when there is nothing to do: a million rows made normalize()
  // and the whitespace replace the largest cost after the CSV parser itself. Text below
  // U+0300 and the precomposed Vietnamese letters (U+1EA0..U+1EF9) is already NFC.
  let value = /^[\u0000-\u02ff\u1ea0-\u1ef9]*$/.test(raw) ? raw : raw.normalize('NFC');
  if (/[^\S ]| {2}/.test(value)) value = value.replace(/\s+/g, ' ');
  value = value.trim();
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return invalid('contains a control character');
  if (required && value === '') return invalid('is empty');
  if (value.length > limit) return invalid(`is ${value.length} characters long, at most ${limit} allowed`);
  return { ok: true, value };
}

function phone(raw: string): FieldResult {
  const trimmed = raw.trim();
  if (trimmed === '') return invalid('is empty');
  if (!/^\+?[\d .-]+$/.test(trimmed)) return invalid('may hold only digits, a leading "+", spaces, dots and dashes');
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 8 || digits.length > 15) return invalid(`has ${digits.length} digit${digits.length === 1 ? '' : 's'}, expected 8 to 15`);
  return { ok: true, value: trimmed.startsWith('+') ? `+${digits}` : digits };
}

function scope(raw: string): FieldResult {
  const parsed = listScopeSchema.safeParse(raw.trim());
  return parsed.success ? { ok: true, value: parsed.data } : invalid(`must be ${parsed.error.issues[0]?.message ?? 'a valid list scope'}`);
}

function idNumber(raw: string): FieldResult {
  const id = normaliseCredentialId('citizen', raw);
  if (id.ok) return { ok: true, value: id.id };
  const digits = /^[\d\s-]+$/.test(raw) ? raw.replace(/\D/g, '').length : 0;
  // CCCD numbers begin with a 0 (the province code); spreadsheets drop leading zeros.
  const hint = digits === 10 || digits === 11 ? ' (leading zeros lost in a spreadsheet? format the column as text)' : '';
  return invalid(`${id.detail}${hint}`);
}

export function memberStatus(raw: string): FieldResult<MemberStatus> {
  const value = raw.trim();
  const status = memberStatuses.find((s) => s === value);
  return status ? { ok: true, value: status } : invalid(`must be ${memberStatuses.join(', ')}`);
}

const checks: Record<MemberColumn, (raw: string) => FieldResult> = {
  name: (raw) => text(raw, maxLength.name, true),
  phone,
  address: (raw) => text(raw, maxLength.address, false),
  unit: (raw) => text(raw, maxLength.unit, true),
  scope,
  idNumber,
  status: memberStatus,
};

/** Checks and normalises one field. */
export function checkMemberField(field: MemberColumn, raw: string): FieldResult {
  return checks[field](raw);
}

export type RowResult =
  | { readonly ok: true; readonly row: MemberRow }
  /** `idNumber`, when that field was good: a repeated ID is worth reporting even on a bad row. */
  | { readonly ok: false; readonly problems: readonly FieldProblem[]; readonly idNumber: string | null };

/** A whole person: every field checked, every problem reported (not only the first). */
export function checkMemberRow(raw: Readonly<Record<MemberColumn, string>>): RowResult {
  const problems: FieldProblem[] = [];
  const values = {} as Record<MemberColumn, string>;
  for (const field of memberColumns) {
    const result = checks[field](raw[field]);
    if (result.ok) values[field] = result.value;
    else problems.push({ field, kind: result.kind, message: result.message });
  }
  if (problems.length > 0) return { ok: false, problems, idNumber: values.idNumber ?? null };
  return { ok: true, row: { ...values, status: values.status as MemberStatus } };
}

/** The ID as operators may see it: all but the last 3 digits hidden, e.g. `*********123`. */
export function maskIdNumber(idNumber: string): string {
  return `${'*'.repeat(Math.max(0, idNumber.length - 3))}${idNumber.slice(-3)}`;
}

/** "line 12: phone has 7 digits, expected 8 to 15" style text for one problem. */
export function describeProblem(problem: Pick<FieldProblem, 'field' | 'message'>): string {
  return `${problem.field} ${problem.message}`;
}
