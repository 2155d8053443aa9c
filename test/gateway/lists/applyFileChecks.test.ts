import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ListCache } from '../../../gateway/listCache.js';
import { applyListFile, type ApplyFileOptions } from '../../../gateway/lists/applyFile.js';
import { openListWriter, type ListWriter } from '../../../gateway/lists/listWriter.js';
import { generateKeyFiles, loadPublicKeys } from '../../../protocol/keys.js';
import { sha256Hex } from '../../../protocol/lists/index.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

const HOUR_MS = 3_600_000;

/**
 * What `qrgate lists import` and the list sync see of applyListFile beyond the checks of
 * listWriter.test.ts: an expired list refused, the install time recorded, every failure a
 * ListApplyError that names what went wrong, and no file left open.
 */
describe('applyListFile: expiry, install time, failures and open files', () => {
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
    const base = { trustedKeys: loadPublicKeys([keys.authorityPub]), scopes: ['site-a'] };
    let files = 0;
    const write = (version: number, expiresAtMs?: number) =>
      writeList(
        keysDir,
        join(dir, `list-${++files}`),
        {
          scope: 'site-a',
          version,
          ...(expiresAtMs === undefined ? {} : { issuedAt: new Date(expiresAtMs - 24 * HOUR_MS).toISOString(), expiresAt: new Date(expiresAtMs).toISOString() }),
        },
        [{ ref: sequentialRef(version), status: 'allow' }],
      );
    const apply = (file: string, options: Partial<ApplyFileOptions> = {}) => applyListFile(writer, file, { ...base, ...options });
    const installed = () => cache.installed().get('site-a');
    return { dir, writer, write, apply, installed };
  }

  it('refuses a list expired at the given time (expiring that very millisecond included) and keeps the installed one', () => {
    const { write, apply, installed } = setUp();
    const expiresAtMs = Date.parse('2026-12-01T12:00:00.000Z');
    apply(write(1));
    const expired = write(2, expiresAtMs);
    for (const at of [expiresAtMs, expiresAtMs + HOUR_MS]) {
      expect(() => apply(expired, { notExpiredAtMs: at })).toThrow(
        expect.objectContaining({ name: 'ListApplyError', code: 'expired', message: expect.stringContaining('expired at 2026-12-01T12:00:00.000Z') }),
      );
    }
    expect(installed()).toMatchObject({ version: 1 });

    // A millisecond before it expires it is still good; with no time given nothing is judged expired.
    expect(apply(expired, { notExpiredAtMs: expiresAtMs - 1 })).toMatchObject({ version: 2, changed: true });
    expect(apply(write(3, expiresAtMs - HOUR_MS))).toMatchObject({ version: 3, changed: true });
    expect(installed()).toMatchObject({ version: 3 });
  });

  it('records the install time it is given, and the clock otherwise', () => {
    const { write, apply, installed } = setUp();
    apply(write(1), { nowMs: 1_700_000_000_000 });
    expect(installed()!.installedAtMs).toBe(1_700_000_000_000);
    const before = Date.now();
    apply(write(2));
    expect(installed()!.installedAtMs).toBeGreaterThanOrEqual(before);
    expect(installed()!.installedAtMs).toBeLessThanOrEqual(Date.now());
  });

  it('names the file it cannot read, and both versions when the file is not the one the manifest announced', () => {
    const { dir, write, apply } = setUp();
    const missing = join(dir, 'no-such-list');
    expect(() => apply(missing)).toThrow(expect.objectContaining({ code: 'io', message: expect.stringContaining(`cannot read list file ${missing}`) }));
    const v2 = write(2);
    expect(() => apply(v2, { expected: { sha256: sha256Hex(readFileSync(v2)), version: 3, resultCount: 1 } })).toThrow(
      expect.objectContaining({ code: 'malformed', message: expect.stringMatching(/version 2.*says 3/) }),
    );
  });

  it('turns a database failure into an io refusal', () => {
    const { writer, write, apply } = setUp();
    const file = write(1);
    writer.close();
    expect(() => apply(file)).toThrow(expect.objectContaining({ name: 'ListApplyError', code: 'io', message: expect.stringContaining('cannot install the list') }));
  });

  it('leaves no file open, applied or refused', () => {
    const { dir, write, apply } = setUp();
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const file = write(1);
    apply(file);
    const before = openFiles();
    for (let n = 0; n < 20; n++) {
      apply(file); // already installed: read, checked, no change
      expect(() => apply(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'io' }));
    }
    // A leak would be one descriptor per read: 20 at least.
    expect(openFiles()).toBeLessThan(before + 10);
  });
});
