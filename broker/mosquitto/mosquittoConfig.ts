import { chownSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commitStaged, discardStaged, stageFile, writeFileAtomically, type StagedFile } from '../../protocol/atomicFile.js';
import { generateSecret } from '../auth/secrets.js';
import type { GrantHolder } from '../auth/aclGrants.js';
import { defaultIngestClientId } from '../ingestion/ingestClientId.js';
import type { CentralStore } from '../store/centralStore.js';
import { MosquittoHashLedger } from './hashLedger.js';
import { aclFileText, confFragmentText, passwordFileText, type MosquittoAccount } from './mosquittoFiles.js';

/**
 * `qrgate mosquitto-config`: Mosquitto's password file, ACL file and a mosquitto.conf
 * fragment for this central's live terminals (docs/mosquitto.md). A terminal is written
 * only when the ledger holds the Mosquitto hash of its current secret (hashLedger.ts); the
 * others are answered as needing `terminals rotate-secret`, never given access. Removed
 * terminals and terminals of retired checkpoints are left out, so a rerun and a reload of
 * Mosquitto (SIGHUP) refuse them.
 */

export const mosquittoFileNames = {
  passwordFile: 'passwd',
  aclFile: 'acl',
  confFile: 'mosquitto.conf',
  /** The central account's password, written only when it is made: `QRGATE_BROKER_PASSWORD` for `qrgate ingest`. */
  centralPasswordFile: 'central.password',
} as const;

export interface MosquittoConfigOptions {
  readonly store: Pick<CentralStore, 'fleet' | 'getTerminalCredentials'>;
  readonly dataDir: string;
  readonly outDir: string;
  /** The central account's user name when it is made; default `qrgate-ingest`, the worker's default client id. */
  readonly centralUsername?: string;
  /** Make a new central password even though one exists (the old one is refused after the reload). */
  readonly newCentralPassword?: boolean;
}

export interface MosquittoConfigResult {
  readonly passwordFile: string;
  readonly aclFile: string;
  readonly confFile: string;
  /** Set when a central password was made by this run. */
  readonly centralPasswordFile: string | null;
  readonly centralUsername: string;
  /** Terminals written, with their rights. */
  readonly terminals: number;
  /** Live terminals left out: no Mosquitto hash of their current secret. */
  readonly needRotation: readonly string[];
  /** Written with any list scope, as our broker treats them (added before scopes were recorded). */
  readonly anyScope: readonly string[];
}

export class MosquittoConfigError extends Error {
  readonly code = 'mosquitto-config';
  constructor(message: string) {
    super(message);
    this.name = 'MosquittoConfigError';
  }
}

/**
 * Mosquitto reads these files as its own user (`mosquitto`, once it has dropped root), and
 * reads them again at every reload; a rewrite must not take them away from it. So a file
 * that exists keeps its owner and group: `chown mosquitto` once after the first run (docs/
 * mosquitto.md), and every later run, as root or as that user, leaves them readable.
 */
function keepOwner(file: StagedFile): void {
  let before: { uid: number; gid: number };
  try {
    before = statSync(file.path);
  } catch {
    return; // a first run: the operator's to hand over
  }
  const staged = statSync(file.temp);
  if (staged.uid === before.uid && staged.gid === before.gid) return;
  try {
    chownSync(file.temp, before.uid, before.gid);
  } catch (err) {
    throw new MosquittoConfigError(
      `cannot give the new ${file.path} its owner (uid ${before.uid}, gid ${before.gid}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; run the command as root or as that user`,
    );
  }
}

export async function writeMosquittoConfig(options: MosquittoConfigOptions): Promise<MosquittoConfigResult> {
  const outDir = resolve(options.outDir);
  const ledger = new MosquittoHashLedger(options.dataDir);
  const files = {
    passwordFile: join(outDir, mosquittoFileNames.passwordFile),
    aclFile: join(outDir, mosquittoFileNames.aclFile),
    confFile: join(outDir, mosquittoFileNames.confFile),
  };

  let centralPasswordFile: string | null = null;
  const existing = ledger.read().central;
  if (existing === null || options.newCentralPassword) {
    const username = options.centralUsername ?? existing?.username ?? defaultIngestClientId;
    const password = generateSecret();
    // The file first: a password the ledger knows but nobody holds would lock the worker out.
    centralPasswordFile = join(outDir, mosquittoFileNames.centralPasswordFile);
    writeFileAtomically(centralPasswordFile, `${password}\n`, 0o600);
    await ledger.setCentral(username, password);
  }
  const book = ledger.read();
  const central = book.central;
  if (central === null) throw new MosquittoConfigError(`${ledger.file} lost the central account`);

  const accounts: MosquittoAccount[] = [{ username: central.username, hash: central.mosquitto }];
  const holders: GrantHolder[] = [];
  const needRotation: string[] = [];
  const fleet = (await options.store.fleet()).filter((t) => !t.removed && !t.checkpointRetired).sort((a, b) => (a.terminalId < b.terminalId ? -1 : 1));
  for (const { terminalId } of fleet) {
    if (terminalId === central.username) throw new MosquittoConfigError(`terminal ${terminalId} has the central account's user name: give the account another with --central-username and --new-central-password`);
    const credentials = await options.store.getTerminalCredentials(terminalId);
    if (credentials === null || credentials.removedAt !== null) continue;
    const hash = MosquittoHashLedger.terminalHash(book, terminalId, credentials.secretHash);
    if (hash === null) {
      needRotation.push(terminalId);
      continue;
    }
    accounts.push({ username: terminalId, hash });
    holders.push({ terminalId, checkpointCode: credentials.checkpointCode, listScopes: credentials.listScopes });
  }

  // Both files change together or not at all: a password without its ACL lines would be a terminal with no rights.
  const staged: StagedFile[] = [];
  try {
    staged.push(stageFile(files.passwordFile, passwordFileText(accounts), 0o600));
    staged.push(stageFile(files.aclFile, aclFileText(holders, central.username), 0o644));
    staged.push(stageFile(files.confFile, confFragmentText(files), 0o644));
    for (const file of staged) keepOwner(file);
    commitStaged(staged);
  } finally {
    discardStaged(staged);
  }
  return {
    ...files,
    centralPasswordFile,
    centralUsername: central.username,
    terminals: holders.length,
    needRotation,
    anyScope: holders.filter((h) => h.listScopes === null).map((h) => h.terminalId),
  };
}
