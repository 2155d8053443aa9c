import type { Readable } from 'node:stream';
import type { RefHasher } from '../../protocol/credentialRef.js';
import type { Logger } from '../../protocol/logger.js';
import type { CentralDb } from '../store/sqliteSchema.js';
import { maskIdNumber } from './memberRow.js';
import { MembersCsvError, readMembersCsv, type MembersCsvItem, type RowProblem } from './membersCsv.js';

/**
 * `qrgate members import`: a members file becomes an upsert of the registry, keyed by the
 * ID number's credential ref: the whole file checked before anything is written.
 *
 * Two phases, so the central keeps ingesting while a million rows are read:
 * 1. Read, check and hash every row into a TEMP table. Temp tables belong to this
 *    connection; writing them takes no lock on the shared file. Rows are appended in file
 *    order: keyed by ref, each insert would land on a random page, and with a million rows
 *    that was 3x slower than everything else together (measured: 20 s against 3 s). A
 *    repeated ID number is then found with one sorted pass.
 * 2. Only if no row was bad: the temp table is merged into `members` with INSERT … ON
 *    CONFLICT DO UPDATE, in ref order, so new refs go into `members`' unique index in order
 *    rather than at random; in chunks of `mergeChunkRows`, each its own IMMEDIATE
 *    transaction, with a pause after each as long as it took. One transaction for a million
 *    rows held the file's write lock for seconds, and the central's commits queued behind it
 *    past their busy timeout (issue 15). The price: a run stopped half-way leaves the first
 *    chunks written; the file is checked whole before the first, and running it again
 *    finishes the job (an upsert by ref changes nothing twice).
 * The raw ID number exists only in the parser's buffers: the temp table holds its ref and
 * masked form.
 */

export interface ImportMembersOptions {
  readonly db: CentralDb;
  readonly hasher: RefHasher;
  readonly input: Readable;
  readonly logger?: Logger;
  /** ms since the epoch, for created_at_ms / updated_at_ms. Default Date.now. */
  readonly nowMs?: () => number;
  /** Called every `progressEveryRows` rows read, and once when the write starts. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Default 100,000. */
  readonly progressEveryRows?: number;
  /** Rows per write transaction. Default mergeChunkRows. */
  readonly chunkRows?: number;
  /** Problems kept for the report; the rest are only counted. Default 50. */
  readonly maxProblems?: number;
  /**
   * A unit manager's import: every row must be of this unit, and no row may take over a
   * person registered in another unit (the upsert would move them). Either is a problem on
   * its line, so the whole file is refused.
   */
  readonly onlyUnit?: string;
}

export interface ImportProgress {
  readonly phase: 'reading' | 'writing';
  readonly rows: number;
  readonly elapsedMs: number;
}

export interface ImportResult {
  readonly rows: number;
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly elapsedMs: number;
}

/** The file had bad rows (or a broken header or CSV syntax): nothing was imported. */
export class MembersImportError extends Error {
  readonly code = 'members-invalid';
  constructor(
    /** The first problems, by line. */
    readonly problems: readonly RowProblem[],
    /** All problems found, including those not kept in `problems`. */
    readonly problemCount: number,
    /** Data rows read before the import stopped. */
    readonly rows: number,
  ) {
    super(`${problemCount} problem${problemCount === 1 ? '' : 's'} in the members file; nothing was imported`);
    this.name = 'MembersImportError';
  }
}

const stagingSql = `
  CREATE TEMP TABLE IF NOT EXISTS member_import (
    line INTEGER NOT NULL,
    -- 1: the row has a problem of its own and is staged only for the repeated-ID check.
    bad INTEGER NOT NULL,
    id_ref BLOB NOT NULL,
    id_masked TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    unit TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL
  );
  DELETE FROM temp.member_import;
`;

/** Every row whose ID number an earlier row already had, with that first line, by line. */
const duplicatesSql = `
  SELECT line, first FROM (
    SELECT line, first_value(line) OVER (PARTITION BY id_ref ORDER BY line) AS first FROM temp.member_import
  ) WHERE line <> first ORDER BY line
`;

/**
 * ~15 ms of writing on this kind of machine (measured: a million rows merge in ~3 s): short
 * enough that a commit waiting for the lock stays well inside the central's busy timeout.
 */
export const mergeChunkRows = 5_000;

/** The last ref of the chunk that starts after @after: the chunk is (@after, that ref]. */
const chunkEndSql = `SELECT id_ref FROM temp.member_import WHERE id_ref > @after ORDER BY id_ref LIMIT 1 OFFSET @offset`;

/** Rows of a chunk whose ref nobody holds yet: what the chunk adds rather than updates. */
const chunkNewSql = `
  SELECT count(*) FROM temp.member_import s
  WHERE s.id_ref > @after AND s.id_ref <= @upto AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id_ref = s.id_ref)
`;

// The DO UPDATE's WHERE leaves an identical row alone, so updated_at_ms moves only on a change.
// (A WHERE before ON CONFLICT is what tells SQLite the upsert's ON from a join's: sqlite.org/lang_upsert.html.)
const mergeSql = `
  INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
  SELECT id_ref, id_masked, name, phone, address, unit, scope, status, @nowMs, @nowMs FROM temp.member_import
  WHERE id_ref > @after AND id_ref <= @upto ORDER BY id_ref
  ON CONFLICT (id_ref) DO UPDATE SET
    name = excluded.name, phone = excluded.phone, address = excluded.address, unit = excluded.unit,
    scope = excluded.scope, status = excluded.status, updated_at_ms = excluded.updated_at_ms
  WHERE members.name IS NOT excluded.name OR members.phone IS NOT excluded.phone OR members.address IS NOT excluded.address
    OR members.unit IS NOT excluded.unit OR members.scope IS NOT excluded.scope OR members.status IS NOT excluded.status
`;

/** Rows of a manager's import whose ID number is registered in another unit, by line. */
const otherUnitSql = `
  SELECT s.line FROM temp.member_import s JOIN members m ON m.id_ref = s.id_ref
  WHERE s.unit = @unit AND m.unit <> @unit ORDER BY s.line
`;

/** The first `max` problems by line, and how many there were in all. */
class ProblemList {
  readonly kept: RowProblem[] = [];
  count = 0;
  constructor(private readonly max: number) {}
  /** Problems must arrive in line order. */
  add(problem: RowProblem): void {
    this.count++;
    if (this.kept.length < this.max) this.kept.push(problem);
  }
}

interface Staged {
  readonly rows: number;
  readonly problems: ProblemList;
  /** The header or CSV syntax error that stopped the reading, if one did. */
  readonly stoppedBy: RowProblem | null;
}

/** Phase 1: every row read, checked, hashed and appended to the temp table. */
async function stageFile(options: ImportMembersOptions, elapsedMs: () => number, maxProblems: number): Promise<Staged> {
  const { db, hasher } = options;
  const progressEvery = options.progressEveryRows ?? 100_000;
  const problems = new ProblemList(maxProblems);
  const stage = db.prepare(
    `INSERT INTO temp.member_import (line, bad, id_ref, id_masked, name, phone, address, unit, scope, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let rows = 0;
  const visit = (item: MembersCsvItem): void => {
    if ('row' in item && options.onlyUnit !== undefined && item.row.unit !== options.onlyUnit) {
      // The unit is named by the person who sent the file, not quoted from it.
      problems.add({ line: item.line, field: 'unit', kind: 'not-your-unit', message: `is not ${options.onlyUnit}, the unit you manage` });
      stage.run(item.line, 1, hasher('citizen', item.row.idNumber), '', '', '', '', '', '', '');
    } else if ('row' in item) {
      const { row } = item;
      stage.run(item.line, 0, hasher('citizen', row.idNumber), maskIdNumber(row.idNumber), row.name, row.phone, row.address, row.unit, row.scope, row.status);
    } else {
      for (const problem of item.problems) problems.add(problem);
      // Staged for the repeated-ID check only: with a problem found, nothing is merged.
      if (item.idNumber !== null) stage.run(item.line, 1, hasher('citizen', item.idNumber), '', '', '', '', '', '', '');
    }
    rows++;
    if (rows % progressEvery === 0) options.onProgress?.({ phase: 'reading', rows, elapsedMs: elapsedMs() });
  };
  // One transaction for speed; it writes only the temp table, so the shared file is not locked.
  db.exec('BEGIN');
  try {
    await readMembersCsv(options.input, visit);
    db.exec('COMMIT');
    return { rows, problems, stoppedBy: null };
  } catch (err) {
    if (!(err instanceof MembersCsvError) || err.code === 'unreadable') throw err;
    // Keep what was staged: repeated ID numbers before the broken line are reported too.
    db.exec('COMMIT');
    const kind = err.code === 'header' ? 'header' : 'syntax';
    return { rows, problems, stoppedBy: { line: err.line ?? 1, field: null, kind, message: err.detail } };
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}

/** Row problems and repeated ID numbers together, by line; the error that stopped the reading last. */
function allProblems(db: CentralDb, staged: Staged, maxProblems: number, onlyUnit: string | undefined): ProblemList {
  const duplicates = new ProblemList(maxProblems);
  for (const { line, first } of db.prepare(duplicatesSql).iterate() as IterableIterator<{ line: number; first: number }>) {
    duplicates.add({ line, field: 'idNumber', kind: 'repeated', message: `is the same ID number as line ${first}`, firstLine: first });
  }
  const taken = new ProblemList(maxProblems);
  if (onlyUnit !== undefined) {
    for (const line of db.prepare(otherUnitSql).pluck().iterate({ unit: onlyUnit }) as IterableIterator<number>) {
      taken.add({ line, field: 'idNumber', kind: 'other-unit', message: 'is registered in another unit; its manager or an admin can move the person' });
    }
  }
  const merged = new ProblemList(maxProblems);
  for (const problem of [...staged.problems.kept, ...duplicates.kept, ...taken.kept].sort((a, b) => a.line - b.line)) merged.add(problem);
  merged.count = staged.problems.count + duplicates.count + taken.count;
  if (staged.stoppedBy !== null) {
    merged.kept.push(staged.stoppedBy);
    merged.count++;
  }
  return merged;
}

/** Phase 2: chunk after chunk in ref order, each its own write transaction, pausing between. */
async function mergeStaged(
  db: CentralDb,
  nowMs: number,
  chunkRows: number,
): Promise<{ added: number; changed: number }> {
  // Built after the reading, on the connection's own temp file: no lock on the shared one.
  db.exec('CREATE INDEX IF NOT EXISTS temp.member_import_ref ON member_import (id_ref)');
  const chunkEnd = db.prepare(chunkEndSql).pluck();
  const lastRef = db.prepare('SELECT max(id_ref) FROM temp.member_import').pluck();
  const chunkNew = db.prepare(chunkNewSql).pluck();
  const merge = db.prepare(mergeSql);
  const writeChunk = db.transaction((after: Buffer, upto: Buffer) => {
    const added = chunkNew.get({ after, upto }) as number;
    return { added, changed: merge.run({ nowMs, after, upto }).changes };
  });
  let after: Buffer = Buffer.alloc(0); // sorts before every ref
  let added = 0;
  let changed = 0;
  const last = lastRef.get() as Buffer | null;
  while (last !== null && Buffer.compare(after, last) < 0) {
    const upto = (chunkEnd.get({ after, offset: chunkRows - 1 }) as Buffer | undefined) ?? last;
    const started = performance.now();
    const chunk = writeChunk.immediate(after, upto);
    added += chunk.added;
    changed += chunk.changed;
    after = upto;
    // As long as the chunk took: a writer sleeping in its busy handler wakes to a free lock.
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, performance.now() - started)));
  }
  return { added, changed };
}

/**
 * Rows that would be written as they are: no problem of their own, not repeating an earlier
 * row's ID number, not taking over a person registered in another unit (`@unit`: a manager's
 * import; NULL for a whole-registry one, where `m.unit <> NULL` never holds).
 */
const goodRowsSql = `
  SELECT count(*) FROM (
    SELECT line, bad, id_ref, first_value(line) OVER (PARTITION BY id_ref ORDER BY line) AS first FROM temp.member_import
  ) s WHERE s.bad = 0 AND s.line = s.first AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id_ref = s.id_ref AND m.unit <> @unit)
`;

/** Good rows whose ID number nobody is registered under yet (in a file with no problem: the people the import adds). */
const newMembersSql = `
  SELECT count(*) FROM temp.member_import s WHERE s.bad = 0 AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id_ref = s.id_ref)
`;

/** Reads and checks the whole file into the temp table, hands it to `then`, and drops it whatever happens. */
async function withCheckedFile<T>(
  options: ImportMembersOptions,
  then: (staged: Staged, problems: ProblemList, elapsedMs: () => number) => T | Promise<T>,
): Promise<T> {
  const { db } = options;
  const startedMs = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedMs);
  const maxProblems = options.maxProblems ?? 50;
  db.exec(stagingSql);
  try {
    const staged = await stageFile(options, elapsedMs, maxProblems);
    return await then(staged, allProblems(db, staged, maxProblems, options.onlyUnit), elapsedMs);
  } finally {
    db.exec('DROP TABLE IF EXISTS temp.member_import');
  }
}

export async function importMembers(options: ImportMembersOptions): Promise<ImportResult> {
  const { db } = options;
  return withCheckedFile(options, async (staged, problems, elapsedMs) => {
    if (problems.count > 0) throw new MembersImportError(problems.kept, problems.count, staged.rows);
    const { rows } = staged;
    options.onProgress?.({ phase: 'writing', rows, elapsedMs: elapsedMs() });
    const { added, changed } = await mergeStaged(db, (options.nowMs ?? Date.now)(), options.chunkRows ?? mergeChunkRows);
    const result: ImportResult = { rows, added, updated: changed - added, unchanged: rows - changed, elapsedMs: elapsedMs() };
    options.logger?.info({ rows, added, updated: result.updated, unchanged: result.unchanged, ms: result.elapsedMs }, 'members.imported');
    return result;
  });
}

/** What importMembers would say of a file, with nothing written: its problems, or what it would add. */
export interface ImportPreview {
  /** Data rows read (up to a broken header or CSV syntax, which is a problem of its own). */
  readonly rows: number;
  /** Rows with no problem: all of them when `problemCount` is 0. */
  readonly goodRows: number;
  /** Good rows whose ID number is not registered yet; the other good rows update (or leave) a member. */
  readonly newMembers: number;
  /** The first `maxProblems` problems, by line. */
  readonly problems: readonly RowProblem[];
  readonly problemCount: number;
}

/**
 * The import's own checks, the same code path up to the write, and no write: the console
 * shows every bad line before anyone presses "import", and the import itself checks again.
 */
export async function previewMembersImport(options: ImportMembersOptions): Promise<ImportPreview> {
  const { db } = options;
  return withCheckedFile(options, (staged, problems) => ({
    rows: staged.rows,
    goodRows: db.prepare(goodRowsSql).pluck().get({ unit: options.onlyUnit ?? null }) as number,
    newMembers: db.prepare(newMembersSql).pluck().get() as number,
    problems: problems.kept,
    problemCount: problems.count,
  }));
}
