// One-off: load events through the store, ANALYZE, and print the plans of the read queries.
import pg from 'pg';
import { pino } from 'pino';
import { PostgresCentralStore } from './broker/store/postgres/pgStore.js';
import { checkpointCode, scanEvent, seededRandom } from './test/broker/store/scanEvents.js';
import { createHash } from 'node:crypto';
const N = Number(process.argv[2] ?? 100000);
const admin = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1/postgres' });
await admin.connect();
await admin.query('DROP DATABASE IF EXISTS qrgate_plans WITH (FORCE)');
await admin.query('CREATE DATABASE qrgate_plans');
const url = 'postgresql://postgres@127.0.0.1/qrgate_plans';
const store = new PostgresCentralStore({ url, logger: pino({ level: 'silent' }), synchronousCommit: 'off', maxConnections: 6 });
await store.migrate();
const random = seededRandom(3);
const seqs = new Array(200).fill(0);
const start = Date.UTC(2026, 9, 1);
let batch = [];
const inflight: Promise<unknown>[] = [];
for (let i = 0; i < N; i++) {
  const t = i % 200;
  batch.push({ ...scanEvent({ terminalId: `gate-${t}`, checkpointCode: checkpointCode(String(1_000_000_000_000 + (t >> 2))), seq: ++seqs[t], tsMs: start + i * 50, decision: (['granted','refused','duplicate'] as const)[random(3)] }, false), credentialRef: createHash('sha256').update(String(random(5000))).digest('hex') });
  if (batch.length === 500) { inflight.push(store.insertEvents(batch, Date.now())); batch = []; if (inflight.length >= 4) await inflight.shift(); }
}
await Promise.all(inflight);
const c = new pg.Client({ connectionString: url }); await c.connect();
await c.query('ANALYZE');
const cp = checkpointCode('1000000000000');
const refs = [createHash('sha256').update('7').digest('hex')];
const many = Array.from({ length: 300 }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
const q = async (label: string, sql: string, params: unknown[]) => {
  const { rows } = await c.query('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ' + sql, params);
  console.log('== ' + label); console.log(rows.map((r: any) => r['QUERY PLAN']).join('\n'));
};
const sel = 'SELECT id, ts, received_at, event FROM events';
await q('all', `${sel} ORDER BY ts DESC, id DESC LIMIT 101`, []);
await q('checkpoint', `${sel} WHERE checkpoint_code = $1 ORDER BY ts DESC, id DESC LIMIT 101`, [cp]);
await q('checkpoint+decision', `${sel} WHERE checkpoint_code = $1 AND decision = 'granted' ORDER BY ts DESC, id DESC LIMIT 101`, [cp]);
await q('checkpoints any', `${sel} WHERE checkpoint_code = ANY($1::text[]) ORDER BY ts DESC, id DESC LIMIT 101`, [[cp, checkpointCode('1000000000001')]]);
await q('terminal', `${sel} WHERE terminal_id = $1 ORDER BY ts DESC, id DESC LIMIT 101`, ['gate-7']);
await q('one ref', `${sel} WHERE credential_ref = ANY($1::bytea[]) ORDER BY ts DESC, id DESC LIMIT 101`, [refs.map((r) => Buffer.from(r, 'hex'))]);
await q('300 refs', `${sel} WHERE credential_ref = ANY($1::bytea[]) ORDER BY ts DESC, id DESC LIMIT 101`, [many.map((r) => Buffer.from(r, 'hex'))]);
await q('edge counts', `SELECT decision, count(*) FROM events WHERE checkpoint_code = $1 AND ts >= $2 AND ts < $3 GROUP BY decision`, [cp, start + 1000000, start + 1000000 + 3600000]);
let t = performance.now(); await store.checkpointStats(cp, start + N * 50); console.log('checkpointStats ms', performance.now() - t);
t = performance.now(); await store.searchEvents({ checkpoint: cp, decision: 'granted', limit: 100 }); console.log('search page ms', performance.now() - t);
await c.end(); await store.close();
await admin.query('DROP DATABASE qrgate_plans WITH (FORCE)'); await admin.end();
