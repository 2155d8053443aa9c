import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomically } from '../../protocol/atomicFile.js';
import { tryExclusiveFileLock } from '../../protocol/fileLock.js';
import { isMosquittoHash, mosquittoPasswordHash } from './passwordHash.js';

/**
 * The Mosquitto hashes of terminal secrets, kept beside the central's store. The store holds
 * only its own hash of each secret (broker/auth/secrets.ts), from which no Mosquitto hash can
 * be made; so the Mosquitto hash is made where the secret exists, once, when it is issued
 * (`terminals add`, `terminals rotate-secret`, enrollment), and kept here for
 * `qrgate mosquitto-config` to assemble the password file from (docs/mosquitto.md).
 *
 * Each entry names the store hash it was made with: the password file takes a terminal's
 * entry only when that is still the store's current hash, so a secret rotated elsewhere (an
 * older build, a failed write) leaves the terminal listed as needing `rotate-secret`, never
 * logged in with a stale secret. An entry is recorded BEFORE the store changes and the
 * previous one is kept, so a store write that fails leaves the current secret's entry here.
 *
 * JSON, mode 0600, replaced atomically under an exclusive lock (the CLI and a running
 * central's enrollment may both write). One central's dataDir: with several nodes, issue
 * secrets where this file lives (docs/mosquitto.md).
 */

export const mosquittoHashesFileName = 'mosquitto-hashes.json';
const lockFileName = 'mosquitto-hashes.lock';
const lockWaitMs = 10_000;
const lockRetryMs = 20;

const entrySchema = z.strictObject({ secretHash: z.string().min(1), mosquitto: z.string().refine(isMosquittoHash, 'not a Mosquitto $7$ hash') });
const ledgerSchema = z.strictObject({
  v: z.literal(1),
  /** Newest first, at most two per terminal. */
  terminals: z.record(z.string(), z.array(entrySchema).max(2)),
  /** The central's own account on the broker (`qrgate ingest`), made by `mosquitto-config`. */
  central: z.strictObject({ username: z.string().min(1), mosquitto: z.string().refine(isMosquittoHash, 'not a Mosquitto $7$ hash') }).nullable(),
});
export type MosquittoLedger = z.infer<typeof ledgerSchema>;

export class MosquittoLedgerError extends Error {
  readonly code = 'mosquitto-ledger';
  constructor(message: string) {
    super(message);
    this.name = 'MosquittoLedgerError';
  }
}

const empty = (): MosquittoLedger => ({ v: 1, terminals: {}, central: null });

export class MosquittoHashLedger {
  readonly file: string;
  private readonly lockFile: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, mosquittoHashesFileName);
    this.lockFile = join(dataDir, lockFileName);
  }

  read(): MosquittoLedger {
    if (!existsSync(this.file)) return empty();
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw new MosquittoLedgerError(`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const parsed = ledgerSchema.safeParse(json);
    if (!parsed.success) throw new MosquittoLedgerError(`${this.file} is not a Mosquitto hash ledger: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  /** The Mosquitto hash of the secret behind `secretHash` (the store's current hash), or null when none was recorded. */
  static terminalHash(ledger: MosquittoLedger, terminalId: string, secretHash: string): string | null {
    return ledger.terminals[terminalId]?.find((entry) => entry.secretHash === secretHash)?.mosquitto ?? null;
  }

  /** Records `secret` (just issued, hashed into the store as `secretHash`) for `terminalId`. */
  async recordTerminal(terminalId: string, secretHash: string, secret: string): Promise<void> {
    const mosquitto = await mosquittoPasswordHash(secret);
    await this.update((ledger) => {
      const kept = (ledger.terminals[terminalId] ?? []).filter((entry) => entry.secretHash !== secretHash).slice(0, 1);
      ledger.terminals[terminalId] = [{ secretHash, mosquitto }, ...kept];
    });
  }

  /** Replaces the central's own account. */
  async setCentral(username: string, password: string): Promise<void> {
    const mosquitto = await mosquittoPasswordHash(password);
    await this.update((ledger) => {
      ledger.central = { username, mosquitto };
    });
  }

  private async update(change: (ledger: MosquittoLedger) => void): Promise<void> {
    // On PostgreSQL nothing else may have made the central's dataDir yet.
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const release = await this.lock();
    try {
      const ledger = this.read();
      change(ledger);
      writeFileAtomically(this.file, `${JSON.stringify(ledger, null, 1)}\n`, 0o600);
    } finally {
      release();
    }
  }

  /** The lock is held for a read and a rename, milliseconds: wait for it rather than refuse. */
  private async lock(): Promise<() => void> {
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      const release = tryExclusiveFileLock(this.lockFile);
      if (release) return release;
      if (Date.now() > deadline) throw new MosquittoLedgerError(`${this.lockFile} stayed locked for ${lockWaitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, lockRetryMs));
    }
  }
}
