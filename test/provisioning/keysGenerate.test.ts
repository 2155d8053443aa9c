import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { keyId, loadPublicKey, KeyFileError } from '../../protocol/keys.js';
import { generateKeys } from '../../provisioning/keysGenerate.js';
import { useTempDir } from '../helpers/tempDir.js';

const scratchDir = useTempDir('qrgate-keysgen-');

describe('generateKeys', () => {
  it('creates the folder and the three key files, and reports the public key id', () => {
    const dir = join(scratchDir(), 'deploy', 'keys');
    const { paths, keyId: id } = generateKeys(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(id).toBe(keyId(loadPublicKey(paths.authorityPub)));
    expect(readFileSync(paths.refKey)).toHaveLength(32);
    expect(statSync(paths.authorityKey).mode & 0o777).toBe(0o600);
  });

  it('refuses a folder that already holds keys', () => {
    const dir = scratchDir();
    generateKeys(dir);
    expect(() => generateKeys(dir)).toThrow(KeyFileError);
  });
});
