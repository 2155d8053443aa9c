import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { CentralConfig } from '../../broker/config.js';
import { importMembers, type ImportResult } from '../../broker/registry/membersImport.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { createRefHasher, refKeyLength } from '../../protocol/credentialRef.js';
import { writeSampleMembersCsv } from '../../provisioning/membersSample.js';

/**
 * `members import` of a large sample file on one engine (issue 15 point 3): a first import
 * (every row added) and the same people again with other details (every row updated), each
 * timed from the first byte read to the last chunk committed, with this process's CPU time
 * and the load average beside it: on a shared machine the wall time says as much about the
 * neighbours as about the import. PostgreSQL runs in a database of its own, dropped afterwards.
 *
 *   npx tsx cli/bench/membersImportBench.ts --engine postgres --rows 1000000
 *   (QRGATE_BENCH_PG_URL: a server URL whose user may CREATE DATABASE; default the local one)
 */

const { values } = parseArgs({
  options: { engine: { type: 'string', default: 'sqlite' }, rows: { type: 'string', default: '1000000' } },
});
const engine = values.engine === 'postgres' ? 'postgres' : 'sqlite';
const rows = Number(values.rows);
const adminUrl = process.env.QRGATE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function onAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-import-bench-'));
  const database = `qrgate_bench_${randomBytes(6).toString('hex')}`;
  try {
    const first = join(dir, 'first.csv');
    const again = join(dir, 'again.csv');
    await writeSampleMembersCsv(first, rows, { scopes: ['site-a', 'site-b'] });
    await writeSampleMembersCsv(again, rows, { scopes: ['site-a', 'site-b'], seed: 2 });
    let store: CentralConfig['store'] = { type: 'sqlite', retentionDays: 90 };
    if (engine === 'postgres') {
      await onAdmin(`CREATE DATABASE ${database}`);
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      store = { type: 'postgres', url: url.toString(), schema: 'public', retentionDays: 90 };
    }
    const hasher = createRefHasher(randomBytes(refKeyLength));
    await withRegistry({ store, dataDir: dir }, async (db) => {
      for (const [label, file] of [
        ['first import (all added)', first],
        ['second import (all updated)', again],
      ] as const) {
        const loadBefore = load();
        const cpuBefore = process.cpuUsage();
        const result: ImportResult = await importMembers({ db, hasher, input: createReadStream(file) });
        const cpu = process.cpuUsage(cpuBefore);
        const perSecond = Math.round((result.rows * 1000) / result.elapsedMs);
        process.stdout.write(
          `${engine} ${label}: ${result.rows} rows in ${(result.elapsedMs / 1000).toFixed(1)} s (${perSecond} rows/s), ` +
            `added ${result.added}, updated ${result.updated}, unchanged ${result.unchanged}; this process's CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; ` +
            `load before ${loadBefore}, after ${load()}\n`,
        );
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (engine === 'postgres') await onAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

await main();
