import { parse, CsvError } from 'csv-parse';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { normaliseCredentialId } from '../protocol/credentials/ids.js';
import { credentialNamespaces, type CredentialNamespace } from '../protocol/credentials/types.js';

/**
 * The list entries file (DESIGN.md "List entries input"): CSV with a header
 * `namespace,id,status[,validFrom,validUntil]`. Read as a stream, so a 1,000,000-row file
 * never sits in memory as rows. Raw ids are secrets: no error from here quotes a cell.
 */

/** `revoked`: a card reissued or reported lost; refused at the gate as `revoked`, not `unknown`. */
export const entryStatuses = ['allow', 'deny', 'check', 'revoked'] as const;
export type EntryStatus = (typeof entryStatuses)[number];

export interface EntryRow {
  /** Line of the file the row ends on (1 = the header). */
  readonly line: number;
  readonly namespace: CredentialNamespace;
  /** Normalised as the scan parsers normalise it. Secret. */
  readonly id: string;
  readonly status: EntryStatus;
  /** Unix milliseconds. */
  readonly validFrom?: number;
  readonly validUntil?: number;
}

export type EntriesCsvProblem = 'unreadable' | 'header' | 'row' | 'syntax';

export class EntriesCsvError extends Error {
  constructor(
    readonly code: EntriesCsvProblem,
    /** Null when the problem is not on one line (file unreadable). */
    readonly line: number | null,
    message: string,
  ) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.name = 'EntriesCsvError';
  }
}

const columnNames = ['namespace', 'id', 'status', 'validFrom', 'validUntil'] as const;
type Column = (typeof columnNames)[number];
type ColumnIndex = Partial<Record<Column, number>>;

const isoTime = z.iso.datetime({ offset: true });

function readHeader(record: readonly string[], line: number): ColumnIndex {
  const index: ColumnIndex = {};
  record.forEach((cell, i) => {
    const name = columnNames.find((column) => column.toLowerCase() === cell.toLowerCase());
    // An unknown column is refused: a misspelt "validUntill" would otherwise drop every window.
    if (!name) throw new EntriesCsvError('header', line, `unknown column ${i + 1}; the header is namespace,id,status[,validFrom,validUntil]`);
    if (index[name] !== undefined) throw new EntriesCsvError('header', line, `column ${name} appears twice`);
    index[name] = i;
  });
  for (const required of ['namespace', 'id', 'status'] as const) {
    if (index[required] === undefined) throw new EntriesCsvError('header', line, `missing column ${required}; the header is namespace,id,status[,validFrom,validUntil]`);
  }
  return index;
}

function readTime(cell: string | undefined, column: Column, line: number): number | undefined {
  if (cell === undefined || cell === '') return undefined;
  if (!isoTime.safeParse(cell).success) {
    throw new EntriesCsvError('row', line, `${column} is not an ISO 8601 date-time with a zone (e.g. 2025-06-30T17:00:00+07:00)`);
  }
  return Date.parse(cell);
}

function readRow(record: readonly string[], columns: ColumnIndex, headerWidth: number, line: number): EntryRow {
  if (record.length !== headerWidth) throw new EntriesCsvError('row', line, `has ${record.length} columns, the header has ${headerWidth}`);
  const cell = (column: Column) => (columns[column] === undefined ? undefined : record[columns[column]]);

  const namespace = credentialNamespaces.find((ns) => ns === cell('namespace'));
  if (!namespace) throw new EntriesCsvError('row', line, `namespace must be ${credentialNamespaces.join(', ')}`);
  const status = entryStatuses.find((s) => s === cell('status'));
  if (!status) throw new EntriesCsvError('row', line, `status must be ${entryStatuses.join(', ')}`);
  // Only a card can be lost and replaced; a "revoked" ID number would tell the guard a story that is not so.
  if (status === 'revoked' && namespace !== 'card') throw new EntriesCsvError('row', line, 'status revoked is for namespace card only (use deny)');

  const id = normaliseCredentialId(namespace, cell('id') ?? '');
  if (!id.ok) {
    const raw = cell('id') ?? '';
    const digits = /^[\d\s-]+$/.test(raw) ? raw.replace(/\D/g, '').length : 0;
    // CCCD numbers start with a 0-prefixed province code; spreadsheets drop leading zeros.
    const hint = namespace === 'citizen' && (digits === 10 || digits === 11) ? ' (leading zeros lost in a spreadsheet?)' : '';
    throw new EntriesCsvError('row', line, `${namespace} id: ${id.detail}${hint}`);
  }

  const validFrom = readTime(cell('validFrom'), 'validFrom', line);
  const validUntil = readTime(cell('validUntil'), 'validUntil', line);
  if (validFrom !== undefined && validUntil !== undefined && validFrom >= validUntil) {
    throw new EntriesCsvError('row', line, 'validFrom must be before validUntil');
  }
  return {
    line,
    namespace,
    id: id.id,
    status,
    ...(validFrom === undefined ? {} : { validFrom }),
    ...(validUntil === undefined ? {} : { validUntil }),
  };
}

interface ParsedRecord {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

/** Rows of an entries file, validated and normalised; throws EntriesCsvError at the first bad one. */
export async function* readEntriesCsv(input: Readable): AsyncGenerator<EntryRow> {
  const parser = input.pipe(parse({ bom: true, info: true, trim: true, skip_empty_lines: true, relax_column_count: true }));
  // A read error on the file does not travel through pipe(); hand it to the parser's iterator.
  input.once('error', (err) => parser.destroy(err));
  let columns: ColumnIndex | null = null;
  let headerWidth = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
      if (columns === null) {
        columns = readHeader(record, info.lines);
        headerWidth = record.length;
        continue;
      }
      yield readRow(record, columns, headerWidth, info.lines);
    }
  } catch (err) {
    if (err instanceof EntriesCsvError) throw err;
    // csv-parse messages can quote the offending cell; report only its code and line.
    if (err instanceof CsvError) {
      const line = typeof err['lines'] === 'number' ? err['lines'] : null;
      throw new EntriesCsvError('syntax', line, `CSV syntax error (${err.code})`);
    }
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new EntriesCsvError('unreadable', null, `cannot read the entries file: ${code}`);
  } finally {
    input.destroy();
  }
  if (columns === null) throw new EntriesCsvError('header', null, 'the entries file is empty: expected a header namespace,id,status[,validFrom,validUntil]');
}
