import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { createRefHasher } from '../../protocol/credentialRef.js';
import { formatCardQr } from '../../protocol/credentials/index.js';
import { KeyFileError, loadPublicKey, loadRefKey } from '../../protocol/keys.js';
import { verifySignedList } from '../../protocol/lists/index.js';
import { EntriesCsvError } from '../../provisioning/entriesCsv.js';
import { generateKeys } from '../../provisioning/keysGenerate.js';
import { buildList, ListBuildError } from '../../provisioning/listsBuild.js';
import { useTempDir } from '../helpers/tempDir.js';

const scratchDir = useTempDir('qrgate-build-');

const cardId = '0HDKM1XDBYPCAQMTSWJBBSE9AX';
const now = Date.parse('2025-03-01T00:00:00.000Z');

function workspace() {
  const dir = scratchDir();
  const keyDir = join(dir, 'keys');
  const { paths } = generateKeys(keyDir);
  const entriesFile = join(dir, 'entries.csv');
  const outDir = join(dir, 'out');
  return { dir, keyDir, paths, entriesFile, outFile: join(dir, 'site-a-3.qgl'), outDir };
}

const goodCsv = [
  'namespace,id,status,validFrom,validUntil',
  'citizen,046199001234,allow,,',
  'citizen,191 234 567,deny,,',
  `card,${cardId},check,2025-03-01T07:00:00+07:00,2025-04-01T00:00:00Z`,
  'app,HUES-7F3A9C21,allow,,',
].join('\n');

describe('buildList', () => {
  it('builds a signed snapshot that verifies with authority.pub and holds refs only', async () => {
    const w = workspace();
    writeFileSync(w.entriesFile, goodCsv);
    const result = await buildList({ scope: 'site-a', version: 3, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile, now: () => now });
    const bytes = readFileSync(w.outFile);
    expect(result).toMatchObject({ scope: 'site-a', version: 3, count: 4, bytes: bytes.length, path: w.outFile });
    expect(result.expiresAt).toBe('2025-03-31T00:00:00.000Z');

    const list = verifySignedList(bytes, { trustedKeys: [loadPublicKey(w.paths.authorityPub)], scope: 'site-a' });
    expect(list.header).toMatchObject({ kind: 'snapshot', version: 3, issuedAt: '2025-03-01T00:00:00.000Z', expiresAt: '2025-03-31T00:00:00.000Z' });
    const hash = createRefHasher(loadRefKey(w.paths.refKey));
    expect([...list.entries()]).toEqual([
      { ref: hash('citizen', '046199001234'), status: 'allow' },
      { ref: hash('citizen', '191234567'), status: 'deny' },
      { ref: hash('card', cardId), status: 'check', validFrom: Date.parse('2025-03-01T00:00:00Z'), validUntil: Date.parse('2025-04-01T00:00:00Z') },
      { ref: hash('app', 'HUES-7F3A9C21'), status: 'allow' },
    ]);

    for (const raw of ['046199001234', '191234567', '191 234 567', cardId, 'HUES-7F3A9C21']) {
      expect(bytes.includes(Buffer.from(raw, 'ascii')), raw).toBe(false);
      expect(bytes.includes(Buffer.from(raw, 'utf16le')), raw).toBe(false);
    }
  });

  it('gives a card the same ref from its id or its full QR text', async () => {
    const w = workspace();
    writeFileSync(w.entriesFile, `namespace,id,status\ncard,${cardId},allow\ncard,${formatCardQr(cardId)},allow\n`);
    await buildList({ scope: 'site-a', version: 1, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile });
    const list = verifySignedList(readFileSync(w.outFile), { trustedKeys: [loadPublicKey(w.paths.authorityPub)], scope: 'site-a' });
    const [a, b] = [...list.entries()];
    expect(a!.ref.equals(b!.ref)).toBe(true);
  });

  it('marks a card revoked from the CSV: a format 2 list whose entry reads back revoked', async () => {
    const w = workspace();
    writeFileSync(w.entriesFile, `namespace,id,status\ncard,${cardId},revoked\ncitizen,046199001234,allow\n`);
    await buildList({ scope: 'site-a', version: 1, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile });
    const list = verifySignedList(readFileSync(w.outFile), { trustedKeys: [loadPublicKey(w.paths.authorityPub)], scope: 'site-a' });
    const hash = createRefHasher(loadRefKey(w.paths.refKey));
    expect(list.header.format).toBe(2);
    expect([...list.entries()]).toEqual([
      { ref: hash('card', cardId), status: 'revoked' },
      { ref: hash('citizen', '046199001234'), status: 'allow' },
    ]);
  });

  it('stops at a bad row with its line number, writing nothing', async () => {
    const w = workspace();
    writeFileSync(w.entriesFile, `${goodCsv}\ncitizen,04619900123,allow,,\ncitizen,046199005678,allow,,\n`);
    const err = await buildList({ scope: 'site-a', version: 3, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntriesCsvError);
    expect((err as EntriesCsvError).line).toBe(6);
    expect((err as EntriesCsvError).message).toContain('line 6: citizen id: ID number has 11 digits');
    expect((err as EntriesCsvError).message).not.toContain('04619900123');
    expect(existsSync(w.outFile)).toBe(false);
    expect(readdirSync(w.dir).sort()).toEqual(['entries.csv', 'keys']);
  });

  it('leaves an existing list in place when a rebuild fails', async () => {
    const w = workspace();
    writeFileSync(w.entriesFile, goodCsv);
    await buildList({ scope: 'site-a', version: 3, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile });
    const before = readFileSync(w.outFile);
    writeFileSync(w.entriesFile, `${goodCsv}\nperson,1,allow,,\n`);
    await expect(buildList({ scope: 'site-a', version: 4, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile })).rejects.toThrow('line 6');
    expect(readFileSync(w.outFile).equals(before)).toBe(true);
  });

  it('refuses bad options before reading entries', async () => {
    const w = workspace();
    writeFileSync(w.entriesFile, goodCsv);
    const base = { scope: 'site-a', version: 3, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile };
    for (const options of [{ ...base, scope: 'Site A' }, { ...base, version: 0 }, { ...base, version: 2.5 }, { ...base, expiresInDays: 0 }]) {
      const err = await buildList(options).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ListBuildError);
      expect((err as ListBuildError).code).toBe('invalid-option');
    }
    const noKeys = await buildList({ ...base, keyDir: join(w.dir, 'nowhere') }).catch((e: unknown) => e);
    expect(noKeys).toBeInstanceOf(KeyFileError);
    expect((noKeys as KeyFileError).message).toContain(join(w.dir, 'nowhere', 'authority.key'));
    expect(existsSync(w.outFile)).toBe(false);
  });

  it('refuses a key folder whose authority.pub does not match authority.key', async () => {
    const w = workspace();
    const other = generateKeys(join(w.dir, 'other'));
    writeFileSync(w.paths.authorityPub, readFileSync(other.paths.authorityPub));
    writeFileSync(w.entriesFile, goodCsv);
    const err = await buildList({ scope: 'site-a', version: 3, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListBuildError);
    expect((err as ListBuildError).code).toBe('key-mismatch');
  });

  it('reports a missing entries file', async () => {
    const w = workspace();
    const err = await buildList({ scope: 'site-a', version: 3, keyDir: w.keyDir, entriesFile: w.entriesFile, outFile: w.outFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntriesCsvError);
    expect((err as EntriesCsvError).code).toBe('unreadable');
  });
});
