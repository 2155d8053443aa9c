import type { Client } from 'aedes';
import type { Logger } from '../../protocol/logger.js';
import type { Checkpoint, TerminalCredentials } from '../store/centralStore.js';
import { Poller } from '../poller.js';
import type { RegistrySnapshot } from './registrySnapshot.js';
import type { Sessions } from './sessions.js';

/**
 * Cuts off a connected terminal the moment the registry says it may no longer be here
 * (issue 5): removed (`terminals remove`), its secret rotated (`terminals rotate-secret`),
 * or its checkpoint retired (`checkpoints retire`). CONNECT already refuses all three
 * (authenticate.ts), but MQTT checks credentials only once per connection, and a terminal
 * stays connected for weeks.
 *
 * Those commands run in another process and only write the store, so the store is polled:
 * once a second, every terminal's row and every checkpoint, in two reads. (One lookup per
 * connected terminal, ~20 µs each on a loaded machine, was the restarted central's largest
 * store cost at 3,000 terminals: a fifth of every second at 10,000, on the event loop the
 * logins need; docs/benchmarks.md, "Reconnect storm".) The same read refreshes the snapshot
 * the logins are checked against (registrySnapshot.ts), before any client is looked at.
 * A client whose row no longer admits it is closed
 * (aedes publishes its will: the fleet shows it offline), and logged as
 * `auth.session-revoked {terminalId, reason}`; no secret or hash is ever logged.
 *
 * Nothing here may take the central down: a failed pass is logged and the next one tries
 * again.
 */

export type RevocationReason = 'terminal-removed' | 'terminal-unknown' | 'secret-rotated' | 'checkpoint-retired';

export interface RevocationWatcherDeps {
  /** Refreshed at every pass; the logins read it too. */
  readonly registry: Pick<RegistrySnapshot, 'refresh' | 'terminal' | 'checkpoint'>;
  readonly sessions: Pick<Sessions, 'principal' | 'admittedSecretHash'>;
  /** The clients connected now (after CONNACK). */
  readonly clients: () => Iterable<Client>;
  readonly logger: Logger;
  /** How often the store is looked at, ms. Default 1000: the cut-off takes at most this long plus one pass. */
  readonly pollMs?: number;
}

/** Why a terminal admitted with `admittedHash` must go now, or null when it may stay. Pure. */
export function revocationReason(
  admittedHash: string | undefined,
  credentials: TerminalCredentials | null,
  checkpoint: Checkpoint | null,
): RevocationReason | null {
  if (credentials === null) return 'terminal-unknown'; // a row deleted by hand
  if (credentials.removedAt !== null) return 'terminal-removed';
  if (credentials.secretHash !== admittedHash) return 'secret-rotated';
  if (checkpoint === null || checkpoint.retiredAt !== null) return 'checkpoint-retired';
  return null;
}

const defaultPollMs = 1000;
/**
 * A pass reads every terminal's row and visits every connected client: ~50–150 ms at 10,000
 * terminals on a loaded machine, a sixth of a restarted central's busy time at one pass a
 * second. Passes are spaced to take at most this share of the time; a fleet of hundreds
 * still gets one a second. (Reading only what changed needs a change marker in the store.)
 */
const maxPassShare = 0.1;

export class RevocationWatcher {
  private readonly poller: Poller;
  /** Closed already: aedes may take a moment to report the disconnect, and one line per cut-off is enough. */
  private readonly revoked = new WeakSet<Client>();

  constructor(private readonly deps: RevocationWatcherDeps) {
    const pass = () => this.pass().catch((err: unknown) => this.deps.logger.error({ err }, 'auth.revocation-check-failed'));
    this.poller = new Poller(pass, deps.pollMs ?? defaultPollMs, { maxShare: maxPassShare });
  }

  start(): void {
    this.poller.start();
  }

  /** Stops polling and waits for a pass in progress. Safe to call twice. */
  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One pass over the connected terminals; a pass still running is not overlapped. */
  poll(): Promise<void> {
    return this.poller.poll();
  }

  private async pass(): Promise<void> {
    const { registry, sessions, logger } = this.deps;
    await registry.refresh();
    for (const client of [...this.deps.clients()]) {
      if (this.poller.isStopped) return;
      const principal = sessions.principal(client);
      if (principal?.kind !== 'terminal' || this.revoked.has(client)) continue;
      const reason = revocationReason(sessions.admittedSecretHash(client), registry.terminal(principal.terminalId), registry.checkpoint(principal.checkpointCode));
      if (reason === null) continue;
      this.revoked.add(client);
      logger.warn({ terminalId: principal.terminalId, checkpointCode: principal.checkpointCode, reason }, 'auth.session-revoked');
      client.close();
    }
  }
}
