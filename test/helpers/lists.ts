import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRefHasher } from '../../protocol/credentialRef.js';
import { loadAuthorityPrivateKey, loadRefKey } from '../../protocol/keys.js';
import { encodeSignedList, type ListEntry, type ListHeaderInput } from '../../protocol/lists/index.js';

const DAY_MS = 86_400_000;

/** Signs a list with the authority key in `keysDir` and writes it to `file`. */
export function writeList(
  keysDir: string,
  file: string,
  header: Partial<ListHeaderInput> & Pick<ListHeaderInput, 'version'>,
  entries: Iterable<ListEntry>,
): string {
  const now = Date.now();
  const full = {
    kind: 'snapshot' as const,
    scope: 'demo-site',
    issuedAt: new Date(now - 60_000).toISOString(),
    expiresAt: new Date(now + 30 * DAY_MS).toISOString(),
    ...header,
  } as ListHeaderInput;
  writeFileSync(file, encodeSignedList(full, entries, loadAuthorityPrivateKey(join(keysDir, 'authority.key'))));
  return file;
}

export function refHasherFor(keysDir: string) {
  return createRefHasher(loadRefKey(join(keysDir, 'ref.key')));
}

/**
 * The n-th of a run of distinct refs that sort in the order of n (as a publisher sorts a
 * snapshot), for generated lists of any size; `run` keeps runs apart.
 */
export function sequentialRef(n: number, run = 0): Buffer {
  const ref = Buffer.alloc(32, run);
  ref.writeUInt32BE(run, 0);
  ref.writeUInt32BE(n, 4);
  return ref;
}
