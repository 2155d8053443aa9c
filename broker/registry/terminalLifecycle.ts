import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateSecret, hashSecret } from '../auth/secrets.js';
import { recordMosquittoHash } from '../mosquitto/recordHash.js';
import type { CentralStore, TerminalCredentials } from '../store/centralStore.js';
import { terminalIdSchema } from '../../protocol/terminalId.js';
import { TerminalProvisioningError, writeSecretFile } from './terminalProvisioning.js';

/**
 * `qrgate terminals rotate-secret` and `terminals remove`. Both only write the store: a
 * running central notices within about a second and disconnects the terminal
 * (broker/auth/revocationWatcher.ts); CONNECT refuses it from then on (authenticate.ts).
 */

type Store = Pick<CentralStore, 'getTerminalCredentials' | 'setTerminalSecret' | 'removeTerminal'>;

/** The live terminal behind `input`: a malformed id, an unknown or a removed terminal are refused by name. */
export async function liveTerminal(store: Pick<CentralStore, 'getTerminalCredentials'>, input: string): Promise<TerminalCredentials> {
  const parsed = terminalIdSchema.safeParse(input);
  if (!parsed.success) throw new TerminalProvisioningError('invalid-terminal-id', `terminal id "${input}": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const credentials = await store.getTerminalCredentials(parsed.data);
  if (credentials === null) throw new TerminalProvisioningError('terminal-unknown', `terminal ${parsed.data} is not registered at this central`);
  if (credentials.removedAt !== null) throw new TerminalProvisioningError('terminal-removed', `terminal ${parsed.data} was removed on ${credentials.removedAt}`);
  return credentials;
}

export interface RotatedSecret {
  readonly terminalId: string;
  /** The new secret: shown once (or written into `configFile`), never stored. */
  readonly secret: string;
  /** Absolute path of the terminal config rewritten with the new secret, when one was given. */
  readonly configFile: string | null;
}

export interface RotateOptions {
  /**
   * The central's dataDir: the new secret's Mosquitto hash is recorded there
   * (broker/mosquitto/hashLedger.ts). Without it none is, and `mosquitto-config` lists the
   * terminal as needing another rotation: refused by Mosquitto, never let in on an old hash.
   */
  readonly dataDir?: string;
  /** The terminal's config to write the new secret into. */
  readonly configFile?: string;
}

/**
 * Replaces the terminal's secret. With `configFile` (a copy of that terminal's config,
 * lanes and all) the new secret goes into its `central.password` and nowhere else: staged
 * first, then the store is changed, then the file is renamed into place, so the file and
 * the central never disagree.
 */
export async function rotateTerminalSecret(store: Store, terminalIdInput: string, options: RotateOptions = {}): Promise<RotatedSecret> {
  const { terminalId } = await liveTerminal(store, terminalIdInput);
  const { configFile } = options;
  const config = configFile === undefined ? null : readTerminalConfig(resolve(configFile), terminalId);
  const secret = generateSecret();
  const secretHash = await hashSecret(secret);
  // Before the store: the Mosquitto hash can only be made while the secret exists (docs/mosquitto.md).
  if (options.dataDir !== undefined) await recordMosquittoHash(options.dataDir, terminalId, secretHash, secret);
  const replace = async (): Promise<void> => {
    // False only when removed since liveTerminal: nothing was replaced.
    if (!(await store.setTerminalSecret(terminalId, secretHash))) throw new TerminalProvisioningError('terminal-removed', `terminal ${terminalId} was removed meanwhile`);
  };
  if (config === null) {
    await replace();
    return { terminalId, secret, configFile: null };
  }
  config.json.central.password = secret;
  await writeSecretFile(config.file, `${JSON.stringify(config.json, null, 2)}\n`, replace);
  return { terminalId, secret, configFile: config.file };
}

interface TerminalConfigJson {
  terminalId?: unknown;
  central: { password?: unknown };
}

/** The terminal's own config, refused unless it is this terminal's and talks to a central. */
function readTerminalConfig(file: string, terminalId: string): { file: string; json: TerminalConfigJson } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TerminalProvisioningError('invalid-config', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const config = json as Partial<TerminalConfigJson> | null;
  if (config === null || typeof config !== 'object' || config.terminalId !== terminalId) {
    throw new TerminalProvisioningError('invalid-config', `${file} is not the config of terminal ${terminalId}`);
  }
  if (typeof config.central !== 'object' || config.central === null) throw new TerminalProvisioningError('invalid-config', `${file} has no "central" section to put the secret in`);
  return { file, json: config as TerminalConfigJson };
}

/** Removes the terminal for good; its id is never handed out again (its events still name it). */
export async function removeTerminal(store: Store, terminalIdInput: string): Promise<string> {
  const { terminalId } = await liveTerminal(store, terminalIdInput);
  await store.removeTerminal(terminalId); // false only if removed meanwhile: the outcome is the same
  return terminalId;
}
