import { generateKeyFiles, keyId, loadPublicKey, type KeyFilePaths } from '../protocol/keys.js';

export interface GeneratedKeys {
  readonly paths: KeyFilePaths;
  /** Public fingerprint of the new authority key, as lists and terminal logs show it. */
  readonly keyId: string;
}

/**
 * `qrgate keys generate`: a deployment's keys, once. The fingerprint is read back from the
 * written public key file, so what is printed is what terminals will be given.
 */
export function generateKeys(outDir: string): GeneratedKeys {
  const paths = generateKeyFiles(outDir);
  return { paths, keyId: keyId(loadPublicKey(paths.authorityPub)) };
}
