import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ListCache } from '../../../gateway/listCache.js';
import { applyListFile, type ExpectedFile } from '../../../gateway/lists/applyFile.js';
import { listsDbPath } from '../../../gateway/lists/listsDb.js';
import { openListWriter, type ListWriter } from '../../../gateway/lists/listWriter.js';
import { generateKeyFiles, loadPublicKeys } from '../../../protocol/keys.js';
import { sha256Hex, type ListEntry } from '../../../protocol/lists/index.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

const scopes = ['site-a', 'site-b'];
const ref = (n: number) => sequentialRef(n);

describe('ListWriter and ListCache on lists.db', () => {
  const tempDir = useTempDir();
  const opened: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const handle of opened.splice(0)) handle.close();
  });

  function setUp() {
    const dir = tempDir();
    const keysDir = join(dir, 'keys');
    const keys = generateKeyFiles(keysDir);
    const dataDir = join(dir, 'data');
    const writer: ListWriter = openListWriter(dataDir);
    const cache = new ListCache(dataDir);
    opened.push(writer, cache);
    const trustedKeys = loadPublicKeys([keys.authorityPub]);
    let files = 0;
    const write = (header: Parameters<typeof writeList>[2], entries: Iterable<ListEntry>) =>
      writeList(keysDir, join(dir, `list-${++files}`), { scope: 'site-a', ...header }, entries);
    const apply = (file: string, expected?: ExpectedFile) =>
      applyListFile(writer, file, { trustedKeys, scopes, ...(expected ? { expected } : {}) });
    const seen = (n: number) => cache.lookup(ref(n)).map((e) => `${e.scope}@${e.listVersion}:${e.status}`);
    const tables = () => {
      const db = new Database(listsDbPath(dataDir), { readonly: true });
      try {
        return db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 'g*' ORDER BY name").pluck().all();
      } finally {
        db.close();
      }
    };
    return { dir, keysDir, dataDir, writer, cache, write, apply, seen, tables };
  }

  it('installs a snapshot, answers lookups from it, and replaces it whole with the next one', () => {
    const { write, apply, seen, cache, tables } = setUp();
    const v1 = write({ version: 1 }, [
      { ref: ref(1), status: 'allow' },
      { ref: ref(2), status: 'deny', validFrom: 1_800_000_000_000, validUntil: 1_900_000_000_000 },
      { ref: ref(3), status: 'check' },
    ]);
    expect(apply(v1)).toMatchObject({ scope: 'site-a', version: 1, previousVersion: null, kind: 'snapshot', entries: 3, changed: true });
    expect(cache.lookup(ref(2))).toEqual([
      { scope: 'site-a', listVersion: 1, status: 'deny', validFromMs: 1_800_000_000_000, validUntilMs: 1_900_000_000_000 },
    ]);
    expect(seen(3)).toEqual(['site-a@1:check']);
    expect(seen(4)).toEqual([]);
    expect(cache.installed().get('site-a')).toMatchObject({ version: 1, entryCount: 3 });

    expect(apply(write({ version: 4 }, [{ ref: ref(4), status: 'allow' }]))).toMatchObject({ version: 4, previousVersion: 1, entries: 1 });
    expect([seen(1), seen(4)]).toEqual([[], ['site-a@4:allow']]);
    // the replaced generation is gone from the file, not just unreferenced
    expect(tables()).toHaveLength(1);
  });

  it('keeps scopes apart: one ref on two lists answers once per list', () => {
    const { write, apply, seen } = setUp();
    apply(write({ version: 3 }, [{ ref: ref(1), status: 'allow' }]));
    apply(write({ version: 7, scope: 'site-b' }, [{ ref: ref(1), status: 'deny' }, { ref: ref(2), status: 'allow' }]));
    expect(seen(1).sort()).toEqual(['site-a@3:allow', 'site-b@7:deny']);
    expect(seen(2)).toEqual(['site-b@7:allow']);
  });

  it('applies a delta on its base: adds, changes and removes with an exact entry count', () => {
    const { write, apply, seen, cache } = setUp();
    apply(write({ version: 1 }, [1, 2, 3, 4].map((n) => ({ ref: ref(n), status: 'allow' as const }))));
    const delta = write({ version: 2, kind: 'delta', baseVersion: 1 }, [
      { ref: ref(1), status: 'check' }, // changed
      { ref: ref(2), status: 'remove' }, // removed
      { ref: ref(9), status: 'remove' }, // not there: no change to the count
      { ref: ref(5), status: 'deny' }, // added
      { ref: ref(6), status: 'allow' }, // added
      { ref: ref(6), status: 'deny' }, // added then changed in the same delta
    ]);
    expect(apply(delta)).toMatchObject({ version: 2, previousVersion: 1, kind: 'delta', entries: 5, changed: true });
    expect([seen(1), seen(2), seen(5), seen(6), seen(3)]).toEqual([
      ['site-a@2:check'],
      [],
      ['site-a@2:deny'],
      ['site-a@2:deny'],
      ['site-a@2:allow'],
    ]);
    expect(cache.installed().get('site-a')).toMatchObject({ version: 2, entryCount: 5 });
  });

  it('rolls a delta back when the result would not hold the announced count, and refuses a delta without its base', () => {
    const { write, apply, seen, cache } = setUp();
    apply(write({ version: 1 }, [{ ref: ref(1), status: 'allow' }]));
    const delta = write({ version: 2, kind: 'delta', baseVersion: 1 }, [
      { ref: ref(1), status: 'deny' },
      { ref: ref(2), status: 'allow' },
    ]);
    const expected = (resultCount: number): ExpectedFile => ({ sha256: sha256Hex(readFileSync(delta)), version: 2, resultCount });
    expect(() => apply(delta, expected(3))).toThrow(expect.objectContaining({ name: 'ListApplyError', code: 'count-mismatch' }));
    expect([seen(1), seen(2)]).toEqual([['site-a@1:allow'], []]);
    expect(cache.installed().get('site-a')).toMatchObject({ version: 1, entryCount: 1 });

    const gap = write({ version: 5, kind: 'delta', baseVersion: 3 }, [{ ref: ref(3), status: 'allow' }]);
    expect(() => apply(gap)).toThrow(expect.objectContaining({ code: 'base-missing' }));
    const noBase = write({ version: 2, kind: 'delta', baseVersion: 1, scope: 'site-b' }, []);
    expect(() => apply(noBase)).toThrow(expect.objectContaining({ code: 'base-missing' }));

    expect(apply(delta, expected(2))).toMatchObject({ version: 2, entries: 2 });
    expect([seen(1), seen(2)]).toEqual([['site-a@2:deny'], ['site-a@2:allow']]);
  });

  it('refuses a snapshot whose count or file differs from the manifest, and leaves no table behind', () => {
    const { write, apply, seen, tables } = setUp();
    apply(write({ version: 1 }, [{ ref: ref(1), status: 'allow' }]));
    const v2 = write({ version: 2 }, [{ ref: ref(2), status: 'allow' }]);
    const sha256 = sha256Hex(readFileSync(v2));
    expect(() => apply(v2, { sha256, version: 2, resultCount: 5 })).toThrow(expect.objectContaining({ code: 'count-mismatch' }));
    expect(() => apply(v2, { sha256: sha256Hex(Buffer.from('other')), version: 2, resultCount: 1 })).toThrow(
      expect.objectContaining({ code: 'hash-mismatch' }),
    );
    expect(() => apply(v2, { sha256, version: 3, resultCount: 1 })).toThrow(expect.objectContaining({ code: 'malformed' }));
    expect(seen(1)).toEqual(['site-a@1:allow']);
    expect(tables()).toHaveLength(1);
  });

  it('refuses a rolled-back, foreign, forged or tampered list before writing, and keeps answering from the installed one', () => {
    const { dir, write, apply, seen } = setUp();
    const v2 = write({ version: 2 }, [{ ref: ref(1), status: 'allow' }]);
    apply(v2);

    const tampered = readFileSync(v2);
    tampered[tampered.length - 100]! ^= 0x01;
    writeFileSync(join(dir, 'tampered'), tampered);
    expect(() => apply(join(dir, 'tampered'))).toThrow(expect.objectContaining({ name: 'ListApplyError', code: 'bad-signature' }));

    const otherKeys = join(dir, 'other');
    generateKeyFiles(otherKeys);
    const forged = writeList(otherKeys, join(dir, 'forged'), { version: 3, scope: 'site-a' }, [{ ref: ref(9), status: 'allow' }]);
    expect(() => apply(forged)).toThrow(expect.objectContaining({ code: 'unknown-key' }));
    expect(() => apply(write({ version: 3, scope: 'site-z' }, []))).toThrow(expect.objectContaining({ code: 'wrong-scope' }));
    expect(() => apply(write({ version: 1 }, []))).toThrow(expect.objectContaining({ code: 'rollback' }));
    expect(() => apply(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'io' }));

    expect(seen(1)).toEqual(['site-a@2:allow']);
    expect(seen(9)).toEqual([]);
  });

  it('treats the installed version again as no change', () => {
    const { write, apply, cache } = setUp();
    const v1 = write({ version: 1 }, [{ ref: ref(1), status: 'allow' }]);
    expect(apply(v1).changed).toBe(true);
    const installedAtMs = cache.installed().get('site-a')!.installedAtMs;
    expect(apply(v1)).toMatchObject({ version: 1, previousVersion: 1, entries: 1, changed: false });
    expect(cache.installed().get('site-a')!.installedAtMs).toBe(installedAtMs);
  });

  it('installs a snapshot that is not sorted by ref, a repeated ref counting once (the last wins)', () => {
    const { write, apply, seen } = setUp();
    const entries: ListEntry[] = [
      { ref: ref(3), status: 'allow' },
      { ref: ref(1), status: 'allow' },
      { ref: ref(2), status: 'deny' },
      { ref: ref(1), status: 'check' },
    ];
    expect(apply(write({ version: 1 }, entries))).toMatchObject({ entries: 3 });
    expect([seen(1), seen(2), seen(3)]).toEqual([['site-a@1:check'], ['site-a@1:deny'], ['site-a@1:allow']]);
  });

  it('drops a generation table left behind by a writer that died between the swap and the drop', () => {
    const { dataDir, write, apply, tables, seen } = setUp();
    apply(write({ version: 1 }, [{ ref: ref(1), status: 'allow' }]));
    const db = new Database(listsDbPath(dataDir));
    db.exec('CREATE TABLE g999 (ref BLOB PRIMARY KEY) WITHOUT ROWID');
    db.close();
    expect(tables()).toHaveLength(2);
    opened.push(openListWriter(dataDir));
    expect(tables()).toHaveLength(1);
    expect(seen(1)).toEqual(['site-a@1:allow']);
  });
});
