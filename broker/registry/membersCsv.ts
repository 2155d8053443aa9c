import { CsvError, parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { checkMemberRow, memberColumns, type FieldProblemKind, type MemberColumn, type MemberRow } from './memberRow.js';

/**
 * The members file of `qrgate members import`: UTF-8 CSV (a BOM is dropped, CRLF is fine,
 * fields with commas or line breaks are quoted) with the header
 * `name,phone,address,unit,scope,idNumber,status`. Read as a stream and handed over a row
 * at a time, so a million-row file never sits in memory. Every message names a line and a
 * field and never quotes a cell: the file is full of ID numbers and personal data.
 */

export const membersCsvHeader = memberColumns.join(',');

/**
 * What kind of wrong, so a page can say it in the reader's language (`message` is English):
 * a field's `encoding` or `invalid` value (FieldProblemKind), the wrong number of `columns`,
 * an ID number `repeated` from line `firstLine`, a person registered in an `other-unit`,
 * a row `not-your-unit` in a manager's import, a wrong `header`, broken CSV `syntax`.
 */
export type RowProblemKind = FieldProblemKind | 'columns' | 'repeated' | 'other-unit' | 'not-your-unit' | 'header' | 'syntax';

/** One bad row or one bad field; `field` is null when the row as a whole is wrong. */
export interface RowProblem {
  /** Line of the file the row starts on (1 = the header). */
  readonly line: number;
  readonly field: MemberColumn | null;
  readonly kind: RowProblemKind;
  readonly message: string;
  /** For `repeated`: the line that first had this ID number. */
  readonly firstLine?: number;
}

export type MembersCsvItem =
  | { readonly line: number; readonly row: MemberRow }
  /** `idNumber`: normalised, when that field of the bad row was good. Secret, as in MemberRow. */
  | { readonly line: number; readonly problems: readonly RowProblem[]; readonly idNumber: string | null };

export type MembersCsvProblem = 'unreadable' | 'header' | 'syntax';

/** The file cannot be read as a members file at all; rows before it were still visited. */
export class MembersCsvError extends Error {
  constructor(
    readonly code: MembersCsvProblem,
    /** Null when the problem is not on one line (the file is missing, unreadable or empty). */
    readonly line: number | null,
    /** The message without its line number. */
    readonly detail: string,
  ) {
    super(line === null ? detail : `line ${line}: ${detail}`);
    this.name = 'MembersCsvError';
  }
}

function checkHeader(record: readonly string[]): void {
  const same = record.length === memberColumns.length && record.every((cell, i) => cell === memberColumns[i]);
  if (!same) throw new MembersCsvError('header', 1, `the header must be exactly ${membersCsvHeader}`);
}

function rowItem(record: readonly string[], line: number): MembersCsvItem {
  if (record.length !== memberColumns.length) {
    const message = `has ${record.length} columns, expected ${memberColumns.length} (${membersCsvHeader}); quote fields that contain a comma`;
    return { line, problems: [{ line, field: null, kind: 'columns', message }], idNumber: null };
  }
  const [name, phone, address, unit, scope, idNumber, status] = record as [string, string, string, string, string, string, string];
  const checked = checkMemberRow({ name, phone, address, unit, scope, idNumber, status });
  return checked.ok ? { line, row: checked.row } : { line, problems: checked.problems.map((p) => ({ line, ...p })), idNumber: checked.idNumber };
}

const lineBreaks = (record: readonly string[]): number => {
  let count = 0;
  for (const cell of record) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) count++;
  return count;
};

/**
 * Visits every data row of `input` in order, valid or not, as it is parsed; when `visit`
 * returns a promise the reading waits for it (the import's staging writes). Blank lines are skipped. Resolves with the number of data rows; rejects with
 * MembersCsvError when the header is wrong or the CSV itself is broken (a stray quote).
 * Rows parsed from the same chunk as a broken line may not have been visited: the stream
 * drops them with the error.
 */
export async function readMembersCsv(input: Readable, visit: (item: MembersCsvItem) => Promise<void> | undefined | void): Promise<number> {
  // csv-parse's `info` option would give line numbers but costs about a third of the parse
  // time on a million rows; counting the line breaks inside quoted fields gives the same.
  const parser = input.pipe(parse({ bom: true, trim: true, relax_column_count: true }));
  // A read error on the file does not travel through pipe(); hand it to the parser.
  input.once('error', (err) => parser.destroy(err));
  let nextLine = 1;
  let headerSeen = false;
  let rows = 0;
  // The visitor's own failures (a full disk while staging) pass through unchanged.
  let visitorError: { readonly err: unknown } | null = null;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const line = nextLine;
      nextLine += 1 + lineBreaks(record);
      if (!headerSeen) {
        checkHeader(record);
        headerSeen = true;
        continue;
      }
      if (record.length === 1 && record[0] === '') continue; // a blank line
      rows++;
      try {
        // Awaited only when a promise comes back: a million awaits of nothing cost time.
        const wait = visit(rowItem(record, line));
        if (wait !== undefined) await wait;
      } catch (err) {
        visitorError = { err };
        break;
      }
    }
  } catch (err) {
    if (err instanceof MembersCsvError) throw err;
    // csv-parse messages quote the offending text; report only its code and line.
    if (err instanceof CsvError) {
      const line = typeof err['lines'] === 'number' ? err['lines'] : null;
      throw new MembersCsvError('syntax', line, `the file is not valid CSV (${err.code}); check the quotes on this line`);
    }
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new MembersCsvError('unreadable', null, `cannot read the members file: ${code}`);
  } finally {
    input.destroy();
  }
  if (visitorError !== null) throw visitorError.err;
  if (!headerSeen) throw new MembersCsvError('header', null, `the file is empty: expected the header ${membersCsvHeader}`);
  return rows;
}
