import { createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hashSecret, generateSecret } from '../broker/auth/secrets.js';
import { recordMosquittoHash } from '../broker/mosquitto/recordHash.js';
import type { CentralConfig } from '../broker/config.js';
import { unusedTerminalId } from '../broker/registry/terminalIds.js';
import type { CentralStore, Checkpoint } from '../broker/store/centralStore.js';
import { openCheckpoint, TerminalProvisioningError, writeSecretFile } from '../broker/registry/terminalProvisioning.js';
import { terminalConfigSchema, terminalIdSchema, type TerminalConfigInput } from '../gateway/config.js';
import { describeIssues } from '../protocol/configFile.js';
import { keyFileNames, keyId, loadAuthorityPrivateKey, loadPublicKey, loadRefKey } from '../protocol/keys.js';

/**
 * `qrgate terminals add`: a new terminal identity with a random secret, registered in the
 * central store (as a scrypt hash only, with the list scopes the broker's ACL then allows
 * it), and a complete terminal config a technician copies to the device: identity,
 * checkpoint, central credentials, key files next to it, and one lane a newcomer can drive
 * at once (a keyboard/stdin scanner, simulated GPIO) to replace with the real hardware
 * (`realHardwareHint`). The secret exists in exactly one place: that file (mode 0600). Nothing
 * is half-done: the config is written to a temporary file first, the store insert
 * follows, and only then does the file get its name.
 */

export interface AddTerminalOptions {
  readonly config: CentralConfig;
  readonly store: Pick<CentralStore, 'getCheckpoint' | 'getTerminalCredentials' | 'addTerminal' | 'removeTerminal'>;
  readonly checkpointCode: string;
  /** The broker as the terminal reaches it, `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly outFile: string;
  /** Default `t-` and 10 random hex digits. */
  readonly terminalId?: string;
  /** The list scopes the terminal holds and keeps in sync (`lists publish --scope`). Default `["default"]`. */
  readonly lists?: readonly string[];
}

export interface AddedTerminal {
  readonly terminalId: string;
  readonly checkpoint: Checkpoint;
  /** Absolute path of the written config. */
  readonly configFile: string;
  readonly keyFiles: { readonly authorityPub: string; readonly refKey: string };
}

/**
 * How to put the written lane on the real hardware: printed by `terminals add` and said in
 * docs/central.md. The shapes are docs/examples/terminal.pi.json's.
 */
export const realHardwareHint = [
  'the lane reads QR text on stdin (type or pipe one per line) and only logs its GPIO (gpio.set);',
  'for the real hardware, in lanes[0] set "scanner" to {"type":"serial","path":"/dev/qrgate-scanner-in"}',
  'or {"type":"hid","vendorId":"0x1eab","productId":"0x0d10"}, and "gpio" to {"type":"onoff","chip":"gpiochip0",…}',
  '(docs/deploy-raspberry-pi.md sections 5-7, docs/examples/terminal.pi.json)',
] as const;

/** Sim pins as in docs/examples/terminal.sim.json, so the sim lane logs familiar numbers. */
const simOutputs = { green: 17, red: 27, buzzer: 22, relay: 23 } as const;
const simInputs = { confirm: 5, reject: 6 } as const;

async function chooseTerminalId(store: AddTerminalOptions['store'], wanted: string | undefined): Promise<string> {
  if (wanted !== undefined) {
    const parsed = terminalIdSchema.safeParse(wanted);
    // JSON-quoted: a NUL or a control character in the id shows as an escape, not as nothing.
    if (!parsed.success) throw new TerminalProvisioningError('invalid-terminal-id', `terminal id ${JSON.stringify(wanted)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if ((await store.getTerminalCredentials(wanted)) !== null) throw new TerminalProvisioningError('terminal-exists', `terminal ${wanted} already exists`);
    return wanted;
  }
  const id = await unusedTerminalId(store);
  if (id === null) throw new TerminalProvisioningError('terminal-exists', 'no unused terminal id after 10 attempts');
  return id;
}

function terminalConfig(terminalId: string, checkpoint: Checkpoint, url: string, secret: string, lists: readonly string[]): TerminalConfigInput {
  const manual = checkpoint.confirm === 'manual';
  return {
    terminalId,
    checkpoint: { code: checkpoint.code, name: checkpoint.name, confirm: checkpoint.confirm },
    dataDir: 'data',
    keys: { listPublicKeys: [`keys/${keyFileNames.authorityPub}`], refKey: `keys/${keyFileNames.refKey}` },
    lists: [...lists],
    lanes: [
      {
        name: checkpoint.direction === 'out' ? 'out' : 'in',
        direction: checkpoint.direction === 'out' ? 'out' : 'in',
        // Not `sim`: nothing outside the process can feed that one; stdin can be typed at.
        scanner: { type: 'stdin' },
        gpio: { type: 'sim', outputs: { ...simOutputs }, inputs: manual ? { ...simInputs } : {} },
      },
    ],
    central: { url, username: terminalId, password: secret },
  };
}

/**
 * Writes `data` at `file` unless a file is already there; an existing file is accepted
 * only if `same` says it holds the same key, so provisioning into the central's own key
 * folder, or twice into one folder, is harmless, and a different deployment's key is never
 * overwritten.
 */
function placeKeyFile(file: string, data: Buffer | string, mode: number, same: () => boolean): void {
  // Written whole under another name, then linked into place: link() fails if the file exists,
  // so two `terminals add` into one folder at once never see each other's half-written key.
  const staged = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(staged, data, { flag: 'wx', mode });
  try {
    linkSync(staged, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (!same()) throw new TerminalProvisioningError('keys-conflict', `${file} holds a different key: choose another --out folder`);
  } finally {
    rmSync(staged, { force: true });
  }
}

function copyKeys(config: CentralConfig, keysDir: string): AddedTerminal['keyFiles'] {
  // The public key is derived from the private one, so it cannot disagree with what signs the lists.
  const authority = createPublicKey(loadAuthorityPrivateKey(config.keys.authorityKey));
  const refKey = loadRefKey(config.keys.refKey);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const authorityPub = join(keysDir, keyFileNames.authorityPub);
  const refKeyFile = join(keysDir, keyFileNames.refKey);
  placeKeyFile(authorityPub, authority.export({ type: 'spki', format: 'pem' }), 0o644, () => keyId(loadPublicKey(authorityPub)) === keyId(authority));
  placeKeyFile(refKeyFile, refKey, 0o600, () => loadRefKey(refKeyFile).equals(refKey));
  return { authorityPub, refKey: refKeyFile };
}


export async function addTerminal(options: AddTerminalOptions): Promise<AddedTerminal> {
  const { store } = options;
  const configFile = resolve(options.outFile);
  if (existsSync(configFile)) throw new TerminalProvisioningError('out-exists', `${configFile} already exists: refusing to overwrite another terminal's config`);
  const checkpoint = await openCheckpoint(store, options.checkpointCode);
  const terminalId = await chooseTerminalId(store, options.terminalId);
  const secret = generateSecret();
  const config = terminalConfig(terminalId, checkpoint, options.url, secret, options.lists ?? ['default']);
  const valid = terminalConfigSchema.safeParse(config);
  if (!valid.success) {
    // Only the command line can make it invalid (the URL); the secret is not in the messages.
    throw new TerminalProvisioningError('invalid-config', `the terminal config would be invalid:\n${describeIssues(valid.error).map((p) => `  - ${p}`).join('\n')}`);
  }
  const keyFiles = copyKeys(options.config, join(dirname(configFile), 'keys'));
  const secretHash = await hashSecret(secret);
  // Before the store: the Mosquitto hash can only be made while the secret exists (docs/mosquitto.md).
  await recordMosquittoHash(options.config.dataDir, terminalId, secretHash, secret);
  let added = false;
  try {
    // Written with every default filled in, so the technician sees each setting there is.
    await writeSecretFile(configFile, `${JSON.stringify(valid.data, null, 2)}\n`, async () => {
      // The scopes as validated and written into the config: the ACL and the terminal agree.
      await store.addTerminal({ terminalId, checkpointCode: checkpoint.code, secretHash, listScopes: valid.data.lists });
      added = true;
    });
  } catch (err) {
    // Registered but without a config nobody could use the secret: take the id back out.
    if (added) await store.removeTerminal(terminalId);
    throw err; // write-failed, or a store refusal with its own code (StoreError)
  }
  return { terminalId, checkpoint, configFile, keyFiles };
}
