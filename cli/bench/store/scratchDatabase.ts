import pg from 'pg';

/**
 * A PostgreSQL database of a bench's own on the server `url` names (a connection string to a
 * database its user may CREATE DATABASE from), dropped by `drop`, connections and all: a bench
 * never writes into a database someone uses, and a failed run leaves nothing behind but what
 * `drop` was not reached for.
 */
export async function scratchDatabase(url: string, prefix = 'qrgate_bench'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  return { url: own.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
