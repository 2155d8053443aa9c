import { describe, expect, it } from 'vitest';
import { toPgPlaceholders } from '../../../../broker/store/sql/pgRegistryDb.js';
import { isCheckViolation, isForeignKeyViolation, isUniqueViolation, placeholders } from '../../../../broker/store/sql/registryDb.js';
import { describeOnEachRegistry } from '../../../helpers/registryEngines.js';

const addAudit = `INSERT INTO audit_log (at_ms, actor, action, target, details, source) VALUES (?, ?, ?, ?, ?, 'test')`;

describeOnEachRegistry('RegistryDb', (registry) => {
  it('reads back what it wrote: rows, one row, a column, a value, with camelCase aliases kept', async () => {
    const db = registry();
    expect(await db.run(addAudit, [1, 'user:lan', 'member.add', '***123', '{"n":1}'])).toBe(1);
    await db.run(addAudit, [2, 'user:mai', 'member.remove', '***456', '{}']);
    const rows = await db.all<{ atMs: number; actor: string }>('SELECT at_ms AS "atMs", actor FROM audit_log ORDER BY at_ms');
    expect(rows).toEqual([
      { atMs: 1, actor: 'user:lan' },
      { atMs: 2, actor: 'user:mai' },
    ]);
    expect(await db.get('SELECT actor FROM audit_log WHERE at_ms = ?', [2])).toEqual({ actor: 'user:mai' });
    expect(await db.get('SELECT actor FROM audit_log WHERE at_ms = ?', [3])).toBeUndefined();
    expect(await db.column<string>(`SELECT action FROM audit_log WHERE actor IN (${placeholders(2)}) ORDER BY at_ms`, ['user:lan', 'user:mai'])).toEqual([
      'member.add',
      'member.remove',
    ]);
    expect(await db.value<number>('SELECT count(*) FROM audit_log')).toBe(2);
    expect(await db.value('SELECT actor FROM audit_log WHERE at_ms = ?', [9])).toBeUndefined();
  });

  it('binds bytes and gets the same bytes back, and returns new ids through RETURNING', async () => {
    const db = registry();
    const ref = Buffer.alloc(32, 7);
    const memberId = await db.value<number>(
      `INSERT INTO members (id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms)
       VALUES (?, '***789', 'Nguyễn Văn An', '', '', 'u1', 'default', 'allow', 0, 0) RETURNING member_id`,
      [ref],
    );
    expect(typeof memberId).toBe('number');
    const row = await db.get<{ idRef: Buffer; name: string }>('SELECT id_ref AS "idRef", name FROM members WHERE member_id = ?', [memberId!]);
    expect(Buffer.compare(row!.idRef, ref)).toBe(0);
    expect(row!.name).toBe('Nguyễn Văn An');
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const db = registry();
    await db.transaction(async (tx) => {
      await tx.run(addAudit, [1, 'a', 'kept', '', '{}']);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run(addAudit, [2, 'a', 'undone', '', '{}']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.column('SELECT action FROM audit_log')).toEqual(['kept']);
  });

  it('joins a transaction opened inside another: one commit or one rollback for both', async () => {
    const db = registry();
    await expect(
      db.transaction(async (tx) => {
        await tx.transaction(async (inner) => inner.run(addAudit, [1, 'a', 'inner', '', '{}']));
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await db.value('SELECT count(*) FROM audit_log')).toBe(0);
  });

  it('keeps a write made outside an open transaction out of it: the rollback does not take it', async () => {
    const db = registry();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inTransaction!: () => void;
    const started = new Promise<void>((resolve) => (inTransaction = resolve));
    const transaction = db.transaction(async (tx) => {
      await tx.run(addAudit, [1, 'a', 'rolled back', '', '{}']);
      inTransaction();
      await held;
      throw new Error('rolled back');
    });
    await started;
    const outside = db.run(addAudit, [2, 'b', 'outside', '', '{}']);
    release();
    await expect(transaction).rejects.toThrow('rolled back');
    await outside;
    expect(await db.column('SELECT action FROM audit_log')).toEqual(['outside']);
  });

  it('tells unique, foreign-key and check violations apart on either engine', async () => {
    const db = registry();
    const addUser = `INSERT INTO users (username, password_hash, role, unit, created_at_ms, password_changed_at_ms) VALUES (?, 'x', ?, ?, 0, 0)`;
    await db.run(addUser, ['lan', 'admin', null]);
    const unique = await db.run(addUser, ['lan', 'admin', null]).catch((err: unknown) => err);
    expect(isUniqueViolation(unique)).toBe(true);
    expect(isForeignKeyViolation(unique)).toBe(false);
    const check = await db.run(addUser, ['mai', 'manager', null]).catch((err: unknown) => err);
    expect(isCheckViolation(check)).toBe(true);
    const foreign = await db
      .run(`INSERT INTO sessions (session_hash, username, created_at_ms, last_seen_at_ms, address) VALUES ('h', 'nobody', 0, 0, '')`)
      .catch((err: unknown) => err);
    expect(isForeignKeyViolation(foreign)).toBe(true);
    expect(isUniqueViolation(foreign)).toBe(false);
  });
});

describe('toPgPlaceholders', () => {
  it('numbers the parameters in order and leaves quoted text and comments alone', () => {
    expect(toPgPlaceholders(`SELECT '?', "a?" FROM t WHERE a = ? AND b IN (?, ?) -- why?\nAND c = ?`)).toBe(
      `SELECT '?', "a?" FROM t WHERE a = $1 AND b IN ($2, $3) -- why?\nAND c = $4`,
    );
    expect(toPgPlaceholders(`SELECT 'it''s ?' WHERE x = ?`)).toBe(`SELECT 'it''s ?' WHERE x = $1`);
  });

  it('refuses SQL with an unterminated quote rather than guess', () => {
    expect(() => toPgPlaceholders(`SELECT 'oops WHERE a = ?`)).toThrow(/unterminated/);
  });
});
