import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { RegisteredMember } from '../broker/store/centralStoreContract.js';

/**
 * The machine's PostgreSQL for tests (issue 15 point 4): 127.0.0.1:5432, trust auth, user
 * postgres, started by `.ci/run` when it is down. Override with QRGATE_TEST_PG_URL (a
 * connection string to a database the user may CREATE DATABASE from).
 */
export const adminUrl = process.env.QRGATE_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  /** The file's own database, created in beforeAll. */
  readonly url: () => string;
  /** A new, empty schema name in it, never handed out again. */
  readonly newSchema: () => string;
  /**
   * A schema holding no rows, already migrated if it was used before: one no store is using
   * (emptied now) or a new one. Pass `release` the store's close. Migrating a fresh schema
   * costs ~0.3 s (a few dozen tables and indexes); emptying a used one, a few ms.
   */
  readonly cleanSchema: () => Promise<{ schema: string; release: () => void }>;
}

/**
 * A database of the test file's own (qrgate_test_<random>), created before its tests and
 * dropped after them, connections and all (WITH (FORCE)): a failed run leaves nothing behind
 * for the next one, and two files running at once never share tables.
 */
export function usePostgresDatabase(): TestDatabase {
  const name = `qrgate_test_${randomBytes(6).toString('hex')}`;
  let schemas = 0;
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
  });
  afterAll(async () => {
    await cleaner?.end();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });
  const url = () => withDatabase(adminUrl, name);
  // One connection for emptying schemas between tests: a new one per test cost more than the deletes.
  let cleaner: pg.Pool | undefined;
  const newSchema = () => `s${++schemas}`;
  const free: string[] = [];
  const cleanSchema = async () => {
    const reused = free.pop();
    const schema = reused ?? newSchema();
    if (reused !== undefined) await emptySchema((cleaner ??= new pg.Pool({ connectionString: url(), max: 1 })), schema);
    return { schema, release: () => void free.push(schema) };
  };
  return { url, newSchema, cleanSchema };
}

/**
 * Deletes every row of every table in `schema` but the migrations' record. DELETE, not
 * TRUNCATE: on a few rows it takes ~10 ms where TRUNCATE's new files took ~600 ms here.
 * Tables go children first, so no foreign key refuses a delete.
 */
async function emptySchema(pool: pg.Pool, schema: string): Promise<void> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'schema_migrations'`,
    [schema],
  );
  const { rows: references } = await pool.query<{ child: string; parent: string }>(
    `SELECT cr.relname AS child, pr.relname AS parent FROM pg_constraint c
     JOIN pg_class cr ON cr.oid = c.conrelid JOIN pg_class pr ON pr.oid = c.confrelid
     JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.contype = 'f'`,
    [schema],
  );
  const left = new Set(tables.map((t) => t.name));
  const order: string[] = [];
  while (left.size > 0) {
    const leaves = [...left].filter((table) => !references.some((r) => r.parent === table && r.child !== table && left.has(r.child)));
    if (leaves.length === 0) throw new Error(`foreign keys in a cycle among ${[...left].join(', ')}`);
    for (const table of leaves) {
      order.push(table);
      left.delete(table);
    }
  }
  await pool.query(order.map((table) => `DELETE FROM ${schema}.${table};`).join(' '));
}

/** Runs `work` with one connection to `schema` of the test database. */
export async function withSchemaClient<T>(url: string, schema: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Puts a person and their cards into a PostgreSQL store's registry tables, as `qrgate members` will. */
export async function registerPgMember(url: string, schema: string, member: RegisteredMember): Promise<void> {
  await withSchemaClient(url, schema, async (client) => {
    const s = member.summary;
    const { rows } = await client.query<{ member_id: string }>(
      `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
       VALUES (decode($1, 'hex'), $2, $3, $4, $5, $6, $7, $8, 0, 0) RETURNING member_id`,
      [member.idRef, s.idMasked, s.name, s.phone, s.address, s.unit, s.scope, s.status],
    );
    for (const [i, card] of member.cards.entries()) {
      await client.query(`INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) VALUES (decode($1, 'hex'), $2, $3, 0, $4)`, [
        card.ref,
        `card-${member.idRef.slice(-6)}-${i}`,
        rows[0]!.member_id,
        card.revoked ? 1 : null,
      ]);
    }
  });
}
