import type { Client, ConnectPacket } from 'aedes';
import type { Principal } from './acl.js';

/**
 * What the broker knows about each connection, keyed by the aedes Client object (weakly,
 * so a closed client is forgotten with it). aedes hands `authenticate` only the username
 * and password; the raw client id and the will come from the CONNECT packet, which only
 * `preConnect` sees.
 */

export interface ConnectFacts {
  /** As sent: aedes replaces an empty id with a generated one before `authenticate` runs. */
  readonly clientId: string;
  readonly clean: boolean;
  readonly willTopic: string | null;
}

export class Sessions {
  private readonly facts = new WeakMap<Client, ConnectFacts>();
  private readonly principals = new WeakMap<Client, Principal>();
  /** The terminal's stored secret hash when it was admitted: a different one later means the secret was rotated. */
  private readonly secretHashes = new WeakMap<Client, string>();

  noteConnect(client: Client, packet: ConnectPacket): void {
    this.facts.set(client, { clientId: packet.clientId, clean: packet.clean !== false, willTopic: packet.will?.topic ?? null });
  }

  connectFacts(client: Client): ConnectFacts | undefined {
    return this.facts.get(client);
  }

  /** `secretHash`: what the store held for a terminal when it was admitted (never logged). */
  admit(client: Client, principal: Principal, secretHash?: string): void {
    this.principals.set(client, principal);
    if (secretHash !== undefined) this.secretHashes.set(client, secretHash);
  }

  /** The secret hash a terminal client was admitted with (revocationWatcher.ts); undefined for lab clients. */
  admittedSecretHash(client: Client): string | undefined {
    return this.secretHashes.get(client);
  }

  /** Undefined for a client that has not passed `authenticate`. */
  principal(client: Client): Principal | undefined {
    return this.principals.get(client);
  }

  /** The terminal id behind a client, for logs and connection records; null for lab clients. */
  terminalId(client: Client): string | null {
    const principal = this.principals.get(client);
    return principal?.kind === 'terminal' ? principal.terminalId : null;
  }
}
