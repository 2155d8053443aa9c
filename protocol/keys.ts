import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { refKeyLength } from './credentialRef.js';

/**
 * Key files (DESIGN.md "Key files"): the list authority's Ed25519 pair as PEM and the
 * deployment's 32-byte ref key as raw bytes. Every loader error names the file, because
 * the person reading it is configuring a terminal and has several key files in front of them.
 */

export const keyFileNames = { authorityKey: 'authority.key', authorityPub: 'authority.pub', refKey: 'ref.key' } as const;

export interface KeyFilePaths {
  readonly authorityKey: string;
  readonly authorityPub: string;
  readonly refKey: string;
}

export type KeyFileProblem = 'exists' | 'unreadable' | 'not-a-key' | 'not-ed25519' | 'private-key' | 'wrong-size' | 'write-failed';

export class KeyFileError extends Error {
  constructor(
    readonly code: KeyFileProblem,
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeyFileError';
  }
}

export function keyFilePaths(dir: string): KeyFilePaths {
  return {
    authorityKey: join(dir, keyFileNames.authorityKey),
    authorityPub: join(dir, keyFileNames.authorityPub),
    refKey: join(dir, keyFileNames.refKey),
  };
}

/**
 * Writes a new authority key pair and ref key into `dir` (created if missing). Refuses if
 * any of the three files exists: overwriting a deployment's keys would lock every terminal
 * out of new lists and change every credential ref.
 */
export function generateKeyFiles(dir: string): KeyFilePaths {
  const paths = keyFilePaths(dir);
  for (const file of Object.values(paths)) {
    if (existsSync(file)) throw new KeyFileError('exists', file, `${file} already exists: refusing to overwrite a key`);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new KeyFileError('write-failed', dir, `cannot create the key folder ${dir}: ${code}`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const files: [string, string | Buffer, number][] = [
    [paths.authorityKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600],
    [paths.authorityPub, publicKey.export({ type: 'spki', format: 'pem' }), 0o644],
    [paths.refKey, randomBytes(refKeyLength), 0o600],
  ];
  const written: string[] = [];
  try {
    for (const [file, data, mode] of files) {
      // `wx`: fail rather than overwrite, even if the file appeared since the check above.
      writeFileSync(file, data, { flag: 'wx', mode });
      written.push(file);
    }
  } catch (err) {
    // Half a key set is worse than none: it looks usable.
    for (const file of written) unlinkSync(file);
    const code = (err as NodeJS.ErrnoException).code;
    const failed = files[written.length]![0];
    if (code === 'EEXIST') throw new KeyFileError('exists', failed, `${failed} already exists: refusing to overwrite a key`);
    throw new KeyFileError('write-failed', failed, `cannot write ${failed}: ${code ?? (err as Error).message}`);
  }
  return paths;
}

function readKeyFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new KeyFileError('unreadable', path, `cannot read ${what} ${path}: ${code}`);
  }
}

/** The list authority's private key; only the machine that builds lists has it. */
export function loadAuthorityPrivateKey(path: string): KeyObject {
  const pem = readKeyFile(path, 'authority private key');
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new KeyFileError('not-a-key', path, `${path} is not a PEM private key (expected ${keyFileNames.authorityKey}, not ${keyFileNames.authorityPub})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFileError('not-ed25519', path, `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected Ed25519`);
  }
  return key;
}

export function loadPublicKey(path: string): KeyObject {
  const pem = readKeyFile(path, 'list authority public key');
  // createPublicKey would happily derive a public key from a private one; a private key
  // in a terminal's config means the authority key has leaked onto a terminal.
  if (pem.includes('PRIVATE KEY')) {
    throw new KeyFileError('private-key', path, `${path} holds a private key: terminals get ${keyFileNames.authorityPub} only`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new KeyFileError('not-a-key', path, `${path} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFileError('not-ed25519', path, `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected Ed25519`);
  }
  return key;
}

/** The trusted list authority keys (several during a rotation), created once at start-up. */
export function loadPublicKeys(paths: readonly string[]): KeyObject[] {
  return paths.map(loadPublicKey);
}

export function loadRefKey(path: string): Buffer {
  const key = readKeyFile(path, 'ref key');
  if (key.length !== refKeyLength) {
    const hint = key.length === refKeyLength * 2 ? ' (hex text? the file holds the raw bytes)' : '';
    throw new KeyFileError('wrong-size', path, `ref key ${path} has ${key.length} bytes, expected ${refKeyLength}${hint}`);
  }
  return key;
}

/**
 * Short public name of an authority key: the first 8 bytes of SHA-256 over its SPKI DER,
 * in hex. Lists carry it so a terminal picks the right key without trying them all. A
 * private key gives the id of its public half.
 */
export function keyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.type !== 'public') throw new TypeError('keyId: expected an asymmetric key');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest().subarray(0, 8).toString('hex');
}
