import { createPublicKey } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { writeFileAtomically } from '../protocol/atomicFile.js';
import { createRefHasher } from '../protocol/credentialRef.js';
import { keyFilePaths, keyId, loadAuthorityPrivateKey, loadPublicKey, loadRefKey } from '../protocol/keys.js';
import { ListBodyBuilder, listScopeSchema, verifySignedList } from '../protocol/lists/index.js';
import { readEntriesCsv } from './entriesCsv.js';

/**
 * `qrgate lists build`: an entries CSV becomes a signed snapshot list. Ids become refs as
 * they stream in; the output holds refs only. Nothing is written unless the whole file is
 * good, and then atomically (temp file, fsync, rename): a terminal or publisher watching
 * the path never sees half a list.
 */

export interface BuildListOptions {
  readonly scope: string;
  readonly version: number;
  /** Folder with authority.key and ref.key (and authority.pub, checked against the key if present). */
  readonly keyDir: string;
  readonly entriesFile: string;
  readonly outFile: string;
  /** Days from now until terminals consider the list stale. Default 30. */
  readonly expiresInDays?: number;
  readonly now?: () => number;
}

export interface BuildListResult {
  readonly scope: string;
  readonly version: number;
  readonly count: number;
  readonly bytes: number;
  readonly path: string;
  readonly keyId: string;
  readonly expiresAt: string;
}

export class ListBuildError extends Error {
  constructor(
    readonly code: 'invalid-option' | 'key-mismatch' | 'write-failed',
    message: string,
  ) {
    super(message);
    this.name = 'ListBuildError';
  }
}

const dayMs = 86_400_000;

function checkOptions(options: BuildListOptions): number {
  const scope = listScopeSchema.safeParse(options.scope);
  if (!scope.success) throw new ListBuildError('invalid-option', `scope "${options.scope}": ${scope.error.issues[0]?.message ?? 'invalid'}`);
  if (!Number.isSafeInteger(options.version) || options.version < 1) {
    throw new ListBuildError('invalid-option', `list version must be a whole number from 1, got ${options.version}`);
  }
  const days = options.expiresInDays ?? 30;
  if (!Number.isFinite(days) || days <= 0 || days > 3650) {
    throw new ListBuildError('invalid-option', `expires-in-days must be above 0 and at most 3650, got ${days}`);
  }
  return days;
}

export async function buildList(options: BuildListOptions): Promise<BuildListResult> {
  const expiresInDays = checkOptions(options);
  const keys = keyFilePaths(options.keyDir);
  // Keys first: a wrong --key folder should fail before a million rows are read.
  const privateKey = loadAuthorityPrivateKey(keys.authorityKey);
  const hashRef = createRefHasher(loadRefKey(keys.refKey));
  const publicKey = existsSync(keys.authorityPub) ? loadPublicKey(keys.authorityPub) : createPublicKey(privateKey);
  if (keyId(publicKey) !== keyId(privateKey)) {
    throw new ListBuildError('key-mismatch', `${keys.authorityPub} is not the public half of ${keys.authorityKey}: terminals holding it would refuse this list`);
  }

  const builder = new ListBodyBuilder();
  for await (const row of readEntriesCsv(createReadStream(options.entriesFile))) {
    builder.add({
      ref: hashRef(row.namespace, row.id),
      status: row.status,
      ...(row.validFrom === undefined ? {} : { validFrom: row.validFrom }),
      ...(row.validUntil === undefined ? {} : { validUntil: row.validUntil }),
    });
  }

  const nowMs = (options.now ?? Date.now)();
  const expiresAt = new Date(nowMs + expiresInDays * dayMs).toISOString();
  const bytes = builder.finish(
    { kind: 'snapshot', scope: options.scope, version: options.version, issuedAt: new Date(nowMs).toISOString(), expiresAt },
    privateKey,
  );
  // Verify what we are about to publish the way a terminal will, with the key it will hold.
  const verified = verifySignedList(bytes, { trustedKeys: [publicKey], scope: options.scope });
  writeAtomically(options.outFile, bytes);
  return {
    scope: options.scope,
    version: options.version,
    count: verified.header.count,
    bytes: bytes.length,
    path: options.outFile,
    keyId: verified.keyId,
    expiresAt,
  };
}

function writeAtomically(path: string, bytes: Buffer): void {
  try {
    writeFileAtomically(path, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ListBuildError('write-failed', `cannot write ${path}: ${code}`);
  }
}
