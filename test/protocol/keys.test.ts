import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, it, expect } from 'vitest';
import {
  generateKeyFiles,
  KeyFileError,
  keyId,
  loadAuthorityPrivateKey,
  loadPublicKey,
  loadPublicKeys,
  loadRefKey,
} from '../../protocol/keys.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-keys-');

function keyError(fn: () => unknown): KeyFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyFileError);
    return err as KeyFileError;
  }
  return expect.fail('expected a KeyFileError');
}

describe('generateKeyFiles', () => {
  it('writes the three key files with the documented formats and modes', () => {
    const dir = join(tempDir(), 'nested', 'keys');
    const paths = generateKeyFiles(dir);
    expect(paths).toEqual({ authorityKey: join(dir, 'authority.key'), authorityPub: join(dir, 'authority.pub'), refKey: join(dir, 'ref.key') });
    expect(readFileSync(paths.authorityKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(paths.authorityPub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(readFileSync(paths.refKey)).toHaveLength(32);
    expect(statSync(paths.authorityKey).mode & 0o777).toBe(0o600);
    expect(statSync(paths.refKey).mode & 0o777).toBe(0o600);
    expect(loadAuthorityPrivateKey(paths.authorityKey).asymmetricKeyType).toBe('ed25519');
    expect(keyId(loadPublicKey(paths.authorityPub))).toBe(keyId(loadAuthorityPrivateKey(paths.authorityKey)));
    expect(loadRefKey(paths.refKey).equals(readFileSync(paths.refKey))).toBe(true);
  });

  it('refuses to overwrite existing keys and leaves them untouched', () => {
    const dir = tempDir();
    const paths = generateKeyFiles(dir);
    const before = readFileSync(paths.authorityKey);
    const err = keyError(() => generateKeyFiles(dir));
    expect(err.code).toBe('exists');
    expect(err.message).toBe(`${paths.authorityKey} already exists: refusing to overwrite a key`);
    expect(readFileSync(paths.authorityKey).equals(before)).toBe(true);
  });

  it('refuses if any one of the files exists, writing none of the others', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ref.key'), 'precious');
    const err = keyError(() => generateKeyFiles(dir));
    expect(err.code).toBe('exists');
    expect(err.file).toBe(join(dir, 'ref.key'));
    expect(existsSync(join(dir, 'authority.key'))).toBe(false);
    expect(readFileSync(join(dir, 'ref.key'), 'utf8')).toBe('precious');
  });
});

describe('key loaders', () => {
  let dir = '';
  let paths = {} as ReturnType<typeof generateKeyFiles>;
  beforeEach(() => {
    dir = tempDir();
    paths = generateKeyFiles(dir);
  });

  it('name the file when it cannot be read', () => {
    const missing = join(dir, 'nope.pub');
    const err = keyError(() => loadPublicKeys([paths.authorityPub, missing]));
    expect(err.code).toBe('unreadable');
    expect(err.file).toBe(missing);
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
  });

  it('refuse a ref key of the wrong size, hinting at hex text', () => {
    const short = join(dir, 'short.key');
    writeFileSync(short, Buffer.alloc(31));
    expect(keyError(() => loadRefKey(short)).message).toBe(`ref key ${short} has 31 bytes, expected 32`);
    const hex = join(dir, 'hex.key');
    writeFileSync(hex, readFileSync(paths.refKey).toString('hex'));
    const err = keyError(() => loadRefKey(hex));
    expect(err.code).toBe('wrong-size');
    expect(err.message).toContain('hex text?');
  });

  it('refuse keys that are not Ed25519', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecKey = join(dir, 'ec.key');
    const ecPub = join(dir, 'ec.pub');
    writeFileSync(ecKey, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(ecPub, publicKey.export({ type: 'spki', format: 'pem' }));
    expect(keyError(() => loadAuthorityPrivateKey(ecKey)).code).toBe('not-ed25519');
    expect(keyError(() => loadPublicKey(ecPub)).message).toBe(`${ecPub} is a ec key, expected Ed25519`);
  });

  it('refuse the wrong half of the pair', () => {
    expect(keyError(() => loadAuthorityPrivateKey(paths.authorityPub)).code).toBe('not-a-key');
    const err = keyError(() => loadPublicKey(paths.authorityKey));
    expect(err.code).toBe('private-key');
    expect(err.message).toContain('terminals get authority.pub only');
  });

  it('refuse garbage', () => {
    const junk = join(dir, 'junk.pub');
    writeFileSync(junk, 'not a key');
    expect(keyError(() => loadPublicKey(junk)).code).toBe('not-a-key');
  });

  it('keep several public keys for rotation', () => {
    const other = generateKeyFiles(join(dir, 'next'));
    const keys = loadPublicKeys([paths.authorityPub, other.authorityPub]);
    expect(keys.map(keyId)).toEqual([keyId(loadPublicKey(paths.authorityPub)), keyId(loadPublicKey(other.authorityPub))]);
    expect(keyId(keys[0]!)).not.toBe(keyId(keys[1]!));
  });
});

describe('keyId', () => {
  it('is the first 8 bytes of SHA-256 over the SPKI DER, in hex', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const expected = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
    expect(keyId(publicKey)).toBe(expected);
    expect(keyId(privateKey)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('generateKeyFiles in an unusable place', () => {
  it('names the folder it cannot create', () => {
    const dir = tempDir();
    const blocker = join(dir, 'file');
    writeFileSync(blocker, '');
    const err = keyError(() => generateKeyFiles(join(blocker, 'keys')));
    expect(err.code).toBe('write-failed');
    expect(err.message).toBe(`cannot create the key folder ${join(blocker, 'keys')}: ENOTDIR`);
  });
});
