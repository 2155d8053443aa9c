import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { RefHasher } from '../../protocol/credentialRef.js';
import type { Logger } from '../../protocol/logger.js';
import { placeholders, type RegistryDb, type SqlValue } from '../store/sql/registryDb.js';
import { maskIdNumber } from './memberRow.js';
import { MembersCsvError, readMembersCsv, type MembersCsvItem, type RowProblem } from './membersCsv.js';

/**
 * `qrgate members import`: a members file becomes an upsert of the registry, keyed by the
 * ID number's credential ref: the whole file checked before anything is written. The same
 * statements run on SQLite and PostgreSQL (RegistryDb).
 *
 * Two phases, so the central keeps ingesting while a million rows are read:
 * 1. Read, check and hash every row into a staging table of this import's own: on SQLite a
 *    TEMP table (it belongs to the connection, and writing it takes no lock on the shared
 *    file), on PostgreSQL an UNLOGGED table (a pool has no one connection a TEMP table would
 *    live on; unlogged, its rows skip the WAL). Rows go in as multi-row INSERTs of
 *    `stageRowsPerStatement`, in file order (keyed by ref, each insert would land on a random
 *    page: 3x slower on SQLite), with the next batch parsed while one is written. A repeated
 *    ID number is then found with one sorted pass.
 * 2. Only if no row was bad: the staged rows are merged into `members` with INSERT … ON
 *    CONFLICT DO UPDATE, in ref order, so new refs go into `members`' unique index in order
 *    rather than at random; in chunks of `mergeChunkRows`, each its own transaction. On SQLite
 *    a pause as long as the chunk follows each: one transaction for a million rows held the
 *    file's write lock for seconds, and the central's commits queued behind it past their
 *    busy timeout (issue 15). The price: a run stopped half-way leaves the first chunks
 *    written; the file is checked whole before the first, and running it again finishes the
 *    job (an upsert by ref changes nothing twice).
 * The raw ID number exists only in the parser's buffers: the staging table holds its ref and
 * masked form.
 */

export interface ImportMembersOptions {
  readonly db: RegistryDb;
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

const stagedColumns = 'line, bad, id_ref, id_masked, name, phone, address, unit, scope, status';

/**
 * The staging table of one import, named at random: two imports at once (two managers, or
 * the console and the CLI) never share one, on the API's connection or on PostgreSQL.
 */
function createStagingSql(db: RegistryDb, table: string): string {
  const temp = db.dialect === 'sqlite' ? 'TEMP' : 'UNLOGGED';
  const bytes = db.dialect === 'sqlite' ? 'BLOB' : 'bytea';
  return `CREATE ${temp} TABLE ${table} (
    line INTEGER NOT NULL,
    -- 1: the row has a problem of its own and is staged only for the repeated-ID check.
    bad INTEGER NOT NULL,
    id_ref ${bytes} NOT NULL,
    id_masked TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    unit TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL
  )`;
}

/**
 * Rows per staging INSERT: 10 parameters each, well inside both engines' limits (SQLite
 * 32,766, PostgreSQL 65,535); a thousand round trips for a million rows.
 */
export const stageRowsPerStatement = 1_000;

/**
 * ~15 ms of writing on this kind of machine (measured: a million rows merge in ~3 s on
 * SQLite): short enough that a commit waiting for the lock stays well inside the central's
 * busy timeout.
 */
export const mergeChunkRows = 5_000;

/** The SQL of an import on its staging table. */
function importSql(table: string) {
  const staging = `INSERT INTO ${table} (${stagedColumns}) VALUES `;
  const rowValues = `(${placeholders(10)})`;
  return {
    stage: (rows: number) => staging + Array.from({ length: rows }, () => rowValues).join(', '),
    index: `CREATE INDEX ${table}_ref ON ${table} (id_ref)`,
    drop: `DROP TABLE IF EXISTS ${table}`,
    /**
     * Every row whose ID number an earlier row already had, with that first line, by line:
     * the first `?`, and how many there are in all.
     */
    duplicates: `
      SELECT line, first_line AS "firstLine", count(*) OVER () AS total FROM (
        SELECT line, first_value(line) OVER (PARTITION BY id_ref ORDER BY line) AS first_line FROM ${table}
      ) d WHERE line <> first_line ORDER BY line LIMIT ?`,
    /** Rows of a manager's import (unit `?`, twice) whose ID number is registered in another unit, by line. */
    otherUnit: `
      SELECT s.line, count(*) OVER () AS total FROM ${table} s JOIN members m ON m.id_ref = s.id_ref
      WHERE s.unit = ? AND m.unit <> ? ORDER BY s.line LIMIT ?`,
    /** The last ref of the chunk that starts after the first `?`: the chunk is (after, that ref]. */
    chunkEnd: `SELECT id_ref FROM ${table} WHERE id_ref > ? ORDER BY id_ref LIMIT 1 OFFSET ?`,
    lastRef: `SELECT id_ref FROM ${table} ORDER BY id_ref DESC LIMIT 1`,
    /** Rows of a chunk whose ref nobody holds yet: what the chunk adds rather than updates. */
    chunkNew: `
      SELECT count(*) FROM ${table} s
      WHERE s.id_ref > ? AND s.id_ref <= ? AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id_ref = s.id_ref)`,
    // The DO UPDATE's WHERE leaves an identical row alone, so updated_at_ms moves only on a
    // change (the columns are NOT NULL: <> is enough). A WHERE before ON CONFLICT is what
    // tells SQLite the upsert's ON from a join's (sqlite.org/lang_upsert.html). The time is
    // cast: PostgreSQL would type a bare parameter in a select list as text.
    merge: `
      INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
      SELECT id_ref, id_masked, name, phone, address, unit, scope, status, CAST(? AS bigint), CAST(? AS bigint) FROM ${table}
      WHERE id_ref > ? AND id_ref <= ? ORDER BY id_ref
      ON CONFLICT (id_ref) DO UPDATE SET
        name = excluded.name, phone = excluded.phone, address = excluded.address, unit = excluded.unit,
        scope = excluded.scope, status = excluded.status, updated_at_ms = excluded.updated_at_ms
      WHERE members.name <> excluded.name OR members.phone <> excluded.phone OR members.address <> excluded.address
        OR members.unit <> excluded.unit OR members.scope <> excluded.scope OR members.status <> excluded.status`,
    /**
     * Rows that would be written as they are: no problem of their own, not repeating an
     * earlier row's ID number, not taking over a person registered in another unit (`?`: a
     * manager's unit; NULL for a whole-registry import, where `m.unit <> NULL` never holds).
     */
    goodRows: `
      SELECT count(*) FROM (
        SELECT line, bad, id_ref, first_value(line) OVER (PARTITION BY id_ref ORDER BY line) AS first_line FROM ${table}
      ) s WHERE s.bad = 0 AND s.line = s.first_line AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id_ref = s.id_ref AND m.unit <> CAST(? AS text))`,
    /** Good rows whose ID number nobody is registered under yet (in a file with no problem: the people the import adds). */
    newMembers: `
      SELECT count(*) FROM ${table} s WHERE s.bad = 0 AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id_ref = s.id_ref)`,
  };
}

type ImportSql = ReturnType<typeof importSql>;

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

/**
 * Staged rows collected into multi-row INSERTs. One INSERT is in flight while the reader
 * parses the next batch (on PostgreSQL the server works meanwhile); the reader waits only
 * when a second batch is full before the first is written.
 */
class Stager {
  private params: SqlValue[] = [];
  private rows = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: RegistryDb,
    private readonly sql: ImportSql,
  ) {}

  /** Stages one row; a promise when the reader must wait for the batch before to be written. */
  add(values: readonly SqlValue[]): Promise<void> | undefined {
    for (const value of values) this.params.push(value);
    return ++this.rows === stageRowsPerStatement ? this.flush() : undefined;
  }

  /** Writes what is left and waits for every INSERT. */
  async finish(): Promise<void> {
    if (this.rows > 0) void this.flush();
    await this.inFlight;
  }

  private flush(): Promise<void> {
    const [params, rows] = [this.params, this.rows];
    this.params = [];
    this.rows = 0;
    const previous = this.inFlight;
    const next = previous.then(async () => {
      await this.db.run(this.sql.stage(rows), params);
    });
    // Seen by the next flush or by finish(); a failure is not left unhandled meanwhile.
    next.catch(() => undefined);
    this.inFlight = next;
    return previous;
  }
}

/** Phase 1: every row read, checked, hashed and staged. */
async function stageFile(options: ImportMembersOptions, sql: ImportSql, elapsedMs: () => number, maxProblems: number): Promise<Staged> {
  const { hasher } = options;
  const progressEvery = options.progressEveryRows ?? 100_000;
  const problems = new ProblemList(maxProblems);
  const stager = new Stager(options.db, sql);
  const badRow = (line: number, idNumber: string) => [line, 1, hasher('citizen', idNumber), '', '', '', '', '', '', ''];
  let rows = 0;
  const visit = (item: MembersCsvItem): Promise<void> | undefined => {
    let staged: Promise<void> | undefined;
    if ('row' in item && options.onlyUnit !== undefined && item.row.unit !== options.onlyUnit) {
      // The unit is named by the person who sent the file, not quoted from it.
      problems.add({ line: item.line, field: 'unit', kind: 'not-your-unit', message: `is not ${options.onlyUnit}, the unit you manage` });
      staged = stager.add(badRow(item.line, item.row.idNumber));
    } else if ('row' in item) {
      const { row } = item;
      staged = stager.add([item.line, 0, hasher('citizen', row.idNumber), maskIdNumber(row.idNumber), row.name, row.phone, row.address, row.unit, row.scope, row.status]);
    } else {
      for (const problem of item.problems) problems.add(problem);
      // Staged for the repeated-ID check only: with a problem found, nothing is merged.
      if (item.idNumber !== null) staged = stager.add(badRow(item.line, item.idNumber));
    }
    rows++;
    if (rows % progressEvery === 0) options.onProgress?.({ phase: 'reading', rows, elapsedMs: elapsedMs() });
    return staged;
  };
  try {
    await readMembersCsv(options.input, visit);
    await stager.finish();
    return { rows, problems, stoppedBy: null };
  } catch (err) {
    if (!(err instanceof MembersCsvError) || err.code === 'unreadable') {
      await stager.finish().catch(() => undefined);
      throw err;
    }
    // Keep what was staged: repeated ID numbers before the broken line are reported too.
    await stager.finish();
    const kind = err.code === 'header' ? 'header' : 'syntax';
    return { rows, problems, stoppedBy: { line: err.line ?? 1, field: null, kind, message: err.detail } };
  }
}

/** Row problems and repeated ID numbers together, by line; the error that stopped the reading last. */
async function allProblems(db: RegistryDb, sql: ImportSql, staged: Staged, maxProblems: number, onlyUnit: string | undefined): Promise<ProblemList> {
  const duplicates = await db.all<{ line: number; firstLine: number; total: number }>(sql.duplicates, [maxProblems]);
  const repeated = duplicates.map(({ line, firstLine }): RowProblem => ({ line, field: 'idNumber', kind: 'repeated', message: `is the same ID number as line ${firstLine}`, firstLine }));
  const taken =
    onlyUnit === undefined ? [] : await db.all<{ line: number; total: number }>(sql.otherUnit, [onlyUnit, onlyUnit, maxProblems]);
  const otherUnit = taken.map(({ line }): RowProblem => ({ line, field: 'idNumber', kind: 'other-unit', message: 'is registered in another unit; its manager or an admin can move the person' }));
  const merged = new ProblemList(maxProblems);
  for (const problem of [...staged.problems.kept, ...repeated, ...otherUnit].sort((a, b) => a.line - b.line)) merged.add(problem);
  merged.count = staged.problems.count + Number(duplicates[0]?.total ?? 0) + Number(taken[0]?.total ?? 0);
  if (staged.stoppedBy !== null) {
    merged.kept.push(staged.stoppedBy);
    merged.count++;
  }
  return merged;
}

/** Phase 2: chunk after chunk in ref order, each its own write transaction. */
async function mergeStaged(db: RegistryDb, sql: ImportSql, nowMs: number, chunkRows: number): Promise<{ added: number; changed: number }> {
  // Built after the reading: appending to an indexed table would cost more than this sort.
  await db.run(sql.index);
  let after: Buffer = Buffer.alloc(0); // sorts before every ref, bytewise on both engines
  let added = 0;
  let changed = 0;
  const last = (await db.value<Buffer>(sql.lastRef)) ?? null;
  while (last !== null && Buffer.compare(after, last) < 0) {
    const upto = (await db.value<Buffer>(sql.chunkEnd, [after, chunkRows - 1])) ?? last;
    const started = performance.now();
    const chunk = await db.transaction(async (tx) => ({
      added: Number(await tx.value<number>(sql.chunkNew, [after, upto])),
      changed: await tx.run(sql.merge, [nowMs, nowMs, after, upto]),
    }));
    added += chunk.added;
    changed += chunk.changed;
    after = upto;
    // SQLite: as long as the chunk took, so a writer sleeping in its busy handler wakes to a
    // free lock. PostgreSQL locks only the rows written: others' commits never wait for ours.
    if (db.dialect === 'sqlite') await new Promise((resolve) => setTimeout(resolve, Math.max(1, performance.now() - started)));
  }
  return { added, changed };
}

/**
 * Staging tables carry their start time in their name (base 36 ms) so that a later import can
 * tell one left by a run that was killed: on PostgreSQL the table is UNLOGGED, not TEMP (the
 * import's statements may use any of the pool's connections), so nothing drops it with its
 * session, and it holds names, phones and addresses. SQLite's TEMP table dies with its file
 * handle.
 */
const stagingPrefix = 'member_import_';
/** Far longer than any import runs (a million rows: minutes), so a live one is never dropped. */
export const abandonedStagingAfterMs = 6 * 3600_000;

export const stagingTableName = (nowMs: number): string => `${stagingPrefix}${nowMs.toString(36)}_${randomBytes(6).toString('hex')}`;

/** When a staging table was made, from its name; a name of the older form (no time) counts as long dead. */
function stagingStartedMs(table: string): number {
  const [time, rest] = table.slice(stagingPrefix.length).split('_');
  return rest === undefined || time === undefined ? 0 : parseInt(time, 36);
}

async function dropAbandonedStaging(db: RegistryDb, nowMs: number, logger: Logger | undefined): Promise<void> {
  if (db.dialect !== 'postgres') return;
  const tables = await db.column<string>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'member\\_import\\_%'");
  for (const table of tables) {
    if (!/^member_import_[0-9a-z_]+$/.test(table) || nowMs - stagingStartedMs(table) < abandonedStagingAfterMs) continue;
    await db.run(`DROP TABLE IF EXISTS ${table}`);
    logger?.warn({ table }, 'members.import-staging-dropped');
  }
}

/** Reads and checks the whole file into a staging table, hands it to `then`, and drops it whatever happens. */
async function withCheckedFile<T>(
  options: ImportMembersOptions,
  then: (sql: ImportSql, staged: Staged, problems: ProblemList, elapsedMs: () => number) => T | Promise<T>,
): Promise<T> {
  const { db } = options;
  const startedMs = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedMs);
  const maxProblems = options.maxProblems ?? 50;
  const nowMs = Date.now();
  await dropAbandonedStaging(db, nowMs, options.logger);
  const table = stagingTableName(nowMs);
  const sql = importSql(table);
  await db.run(createStagingSql(db, table));
  try {
    const staged = await stageFile(options, sql, elapsedMs, maxProblems);
    return await then(sql, staged, await allProblems(db, sql, staged, maxProblems, options.onlyUnit), elapsedMs);
  } finally {
    await db.run(sql.drop);
  }
}

export async function importMembers(options: ImportMembersOptions): Promise<ImportResult> {
  const { db } = options;
  return withCheckedFile(options, async (sql, staged, problems, elapsedMs) => {
    if (problems.count > 0) throw new MembersImportError(problems.kept, problems.count, staged.rows);
    const { rows } = staged;
    options.onProgress?.({ phase: 'writing', rows, elapsedMs: elapsedMs() });
    const { added, changed } = await mergeStaged(db, sql, (options.nowMs ?? Date.now)(), options.chunkRows ?? mergeChunkRows);
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
  return withCheckedFile(options, async (sql, staged, problems) => ({
    rows: staged.rows,
    goodRows: Number(await db.value<number>(sql.goodRows, [options.onlyUnit ?? null])),
    newMembers: Number(await db.value<number>(sql.newMembers)),
    problems: problems.kept,
    problemCount: problems.count,
  }));
}
