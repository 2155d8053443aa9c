import type { AuthenticateError, AuthErrorCode, Client, ConnectPacket } from 'aedes';
import { enrollClientIdPattern, enrollUsername, parseEnrollmentQr } from '../../protocol/enrollment.js';
import type { Logger } from '../../protocol/logger.js';
import type { CentralStore, TerminalCredentials } from '../store/centralStore.js';
import type { CounterLike } from '../mqtt/brokerMetrics.js';
import type { FailureThrottle } from './failureThrottle.js';
import { printable } from '../mqtt/printable.js';
import { isLiteralLevel, mayUseWill, type Principal } from './acl.js';
import type { RegistrySnapshot } from './registrySnapshot.js';
import { verifyAgainstDecoy, verifySecret } from './secrets.js';
import type { ConnectFacts, Sessions } from './sessions.js';

/**
 * The CONNECT check: username = terminal id, password = the terminal's secret, client id =
 * the username. MQTT 3.1.1 CONNACK return codes (§3.2.2.3):
 *   2 identifier rejected   — client id empty with CleanSession 0 [MQTT-3.1.3-8], longer than
 *                             we allow, not the username, or not one literal topic level
 *                             (`/`, `+`, `#`, NUL) [MQTT-3.1.3-9]
 *   3 server unavailable    — the store could not be asked
 *   4 bad user name/password — unknown terminal or wrong secret (indistinguishable on purpose)
 *   5 not authorized        — no credentials, removed terminal, retired checkpoint, a will
 *                             outside the terminal's own status topic
 * Whether a terminal was removed is only revealed to someone who knows its secret.
 *
 * A device enrolling by QR (protocol/enrollment.ts) logs in as `$enroll` with the QR text
 * as its password and a client id of its own choosing (`enroll-` + 32 hex digits). Only the
 * QR's form is checked here; whether it is genuine, current and unused is answered on its
 * result topic (broker/enrollment/enrollmentDesk.ts), where each refusal can say why.
 */

/** Terminal ids are at most 64 characters (gateway/config.ts terminalIdSchema). [MQTT-3.1.3-5] lets a server cap ids above 23. */
export const maxClientIdLength = 64;
/** Secrets we issue are 32 characters; anything this long is not one and is refused before its hash is checked. */
const maxPasswordBytes = 1024;

export const connackCodes = { identifierRejected: 2, serverUnavailable: 3, badUsernameOrPassword: 4, notAuthorized: 5 } as const;
type ConnackCode = (typeof connackCodes)[keyof typeof connackCodes];

export type RefusalReason =
  | 'client-id-empty'
  | 'client-id-too-long'
  | 'client-id-mismatch'
  | 'client-id-invalid'
  | 'anonymous'
  | 'unknown-terminal'
  | 'bad-password'
  | 'terminal-removed'
  | 'checkpoint-retired'
  | 'will-not-allowed'
  | 'store-unavailable'
  | 'enroll-client-id'
  | 'enroll-malformed'
  | 'enroll-disabled';

const returnCodeOf: Record<RefusalReason, ConnackCode> = {
  'client-id-empty': connackCodes.identifierRejected,
  'client-id-too-long': connackCodes.identifierRejected,
  'client-id-mismatch': connackCodes.identifierRejected,
  'client-id-invalid': connackCodes.identifierRejected,
  anonymous: connackCodes.notAuthorized,
  'unknown-terminal': connackCodes.badUsernameOrPassword,
  'bad-password': connackCodes.badUsernameOrPassword,
  'terminal-removed': connackCodes.notAuthorized,
  'checkpoint-retired': connackCodes.notAuthorized,
  'will-not-allowed': connackCodes.notAuthorized,
  'store-unavailable': connackCodes.serverUnavailable,
  'enroll-client-id': connackCodes.identifierRejected,
  'enroll-malformed': connackCodes.badUsernameOrPassword,
  'enroll-disabled': connackCodes.notAuthorized,
};

export type ConnectDecision =
  /** `secretHash`: the stored hash the terminal's secret matched, so a rotation is noticed later (revocationWatcher.ts). */
  | { readonly ok: true; readonly principal: Principal; readonly secretHash?: string }
  | { readonly ok: false; readonly reason: RefusalReason };

export interface AuthenticateDeps {
  readonly store: Pick<CentralStore, 'getTerminalCredentials' | 'getCheckpoint'>;
  /** Logins it admits skip the store (registrySnapshot.ts); without it every login asks the store. */
  readonly registry?: Pick<RegistrySnapshot, 'terminal' | 'checkpoint'>;
  readonly sessions: Sessions;
  readonly lab: boolean;
  /** Whether this broker answers enrollment requests (it needs the deployment's keys). Default false. */
  readonly enrollment?: boolean;
  readonly logger: Logger;
  readonly refused?: CounterLike;
  /** Holds repeated refusals back (failureThrottle.ts); without it every refusal is answered at once. */
  readonly throttle?: Pick<FailureThrottle, 'refuse' | 'recordSuccess'>;
  /** The peer address of a client's socket, which aedes does not keep for a wrapped stream. */
  readonly remoteAddress?: (client: Client) => string | undefined;
}

interface ConnectAttempt {
  readonly facts: ConnectFacts;
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
}

function admitted(credentials: TerminalCredentials): ConnectDecision {
  const { terminalId, checkpointCode, listScopes, secretHash } = credentials;
  return { ok: true, principal: { kind: 'terminal', terminalId, checkpointCode, listScopes }, secretHash };
}

/**
 * Admits from the main thread's snapshot when it can (registrySnapshot.ts); any other answer
 * is the store's, so a terminal added or a secret rotated since the snapshot gets in at once
 * and a refusal always rests on the current row.
 */
async function fromSnapshot(secret: string | null, username: string, registry: AuthenticateDeps['registry']): Promise<ConnectDecision | null> {
  const known = registry?.terminal(username) ?? null;
  if (known === null || secret === null || known.removedAt !== null) return null;
  const checkpoint = registry!.checkpoint(known.checkpointCode);
  if (checkpoint === null || checkpoint.retiredAt !== null) return null;
  return (await verifySecret(secret, known.secretHash)) ? admitted(known) : null;
}

async function checkTerminal(attempt: ConnectAttempt, username: string, deps: Pick<AuthenticateDeps, 'store' | 'registry'>): Promise<ConnectDecision> {
  // The id becomes a level of the terminal's own topics: one holding `/`, `+`, `#` or NUL
  // was never provisioned (terminalIdSchema) and would widen its ACL prefix. Identifier
  // rejected [MQTT-3.1.3-9], before the store or the hash check are asked.
  if (!isLiteralLevel(username)) return { ok: false, reason: 'client-id-invalid' };
  const password = attempt.password;
  const secret = password && password.length <= maxPasswordBytes ? password.toString('utf8') : null;
  const cached = await fromSnapshot(secret, username, deps.registry);
  if (cached !== null) return cached;
  const { store } = deps;
  const credentials = await store.getTerminalCredentials(username);
  if (credentials === null) {
    if (secret !== null) await verifyAgainstDecoy(secret);
    return { ok: false, reason: 'unknown-terminal' };
  }
  if (secret === null || !(await verifySecret(secret, credentials.secretHash))) return { ok: false, reason: 'bad-password' };
  if (credentials.removedAt !== null) return { ok: false, reason: 'terminal-removed' };
  const checkpoint = await store.getCheckpoint(credentials.checkpointCode);
  if (checkpoint === null || checkpoint.retiredAt !== null) return { ok: false, reason: 'checkpoint-retired' };
  return admitted(credentials);
}

function checkEnrollment(attempt: ConnectAttempt, enabled: boolean): ConnectDecision {
  if (!enabled) return { ok: false, reason: 'enroll-disabled' };
  const clientId = attempt.facts.clientId;
  if (!enrollClientIdPattern.test(clientId)) return { ok: false, reason: 'enroll-client-id' };
  const parsed = attempt.password === undefined ? null : parseEnrollmentQr(attempt.password.toString('utf8'));
  if (parsed === null || !parsed.ok) return { ok: false, reason: 'enroll-malformed' };
  return { ok: true, principal: { kind: 'enroll', clientId, qr: parsed.qr } };
}

/** The whole decision, without aedes: unit-testable, and the hook below only translates it. */
export async function decideConnect(attempt: ConnectAttempt, deps: Pick<AuthenticateDeps, 'store' | 'registry' | 'lab' | 'enrollment'>): Promise<ConnectDecision> {
  const { clientId, clean, willTopic } = attempt.facts;
  // [MQTT-3.1.3-8]: aedes 1.2 accepts this and invents an id (moscajs/aedes#1095).
  if (clientId.length === 0 && !clean) return { ok: false, reason: 'client-id-empty' };
  if (Buffer.byteLength(clientId) > maxClientIdLength) return { ok: false, reason: 'client-id-too-long' };
  const username = attempt.username;
  let decision: ConnectDecision;
  if (username === undefined || username === '') {
    decision = deps.lab ? { ok: true, principal: { kind: 'lab' } } : { ok: false, reason: 'anonymous' };
  } else if (username === enrollUsername) {
    decision = checkEnrollment(attempt, deps.enrollment ?? false);
  } else if (clientId !== username) {
    return { ok: false, reason: 'client-id-mismatch' };
  } else {
    decision = await checkTerminal(attempt, username, deps);
  }
  // A will is published later on the terminal's behalf; refuse now a will it could not publish itself.
  if (decision.ok && willTopic !== null && !mayUseWill(decision.principal, willTopic)) return { ok: false, reason: 'will-not-allowed' };
  return decision;
}

function connackError(reason: RefusalReason): AuthenticateError {
  return Object.assign(new Error(`connection refused: ${reason}`), { returnCode: returnCodeOf[reason] as number as AuthErrorCode });
}

/** aedes `preConnect`: remembers what `authenticate` needs from the CONNECT packet. */
export function createPreConnect(sessions: Sessions) {
  return (client: Client, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void): void => {
    sessions.noteConnect(client, packet);
    callback(null, true);
  };
}

/**
 * A terminal whose list scopes the central never recorded (added before SQLite schema 3)
 * may subscribe to any scope (acl.ts). Said once per terminal per run, not at every
 * reconnect: the operator needs the list of terminals to re-add, not a line per flap.
 */
function unknownScopesWarner(logger: Logger): (principal: Principal) => void {
  const warned = new Set<string>();
  return (principal) => {
    if (principal.kind !== 'terminal' || principal.listScopes !== null || warned.has(principal.terminalId)) return;
    warned.add(principal.terminalId);
    logger.warn({ terminalId: principal.terminalId, checkpointCode: principal.checkpointCode }, 'auth.list-scopes-unknown');
  };
}

/**
 * Refusals that say the client may be guessing, and so count towards slowing its next ones
 * down (failureThrottle.ts). Not counted: a store that cannot answer (our failure), and a
 * will outside the client's topics (it proved its secret; a misconfiguration, not a guess).
 * A removed terminal or retired checkpoint is counted: a device left plugged in would
 * otherwise cost a store lookup and a hash check at every reconnect, forever.
 */
const guessing: ReadonlySet<RefusalReason> = new Set(Object.keys(returnCodeOf).filter((r) => r !== 'store-unavailable' && r !== 'will-not-allowed') as RefusalReason[]);

/** aedes `authenticate`. */
export function createAuthenticate(deps: AuthenticateDeps) {
  const { sessions, logger } = deps;
  const warnUnknownScopes = unknownScopesWarner(logger);
  return (
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    const facts = sessions.connectFacts(client) ?? { clientId: client.id, clean: client.clean, willTopic: null };
    decideConnect({ facts, username, password }, deps)
      .catch((err: unknown): ConnectDecision => {
        logger.error({ err, clientId: printable(facts.clientId) }, 'mqtt.auth-failed');
        return { ok: false, reason: 'store-unavailable' };
      })
      .then((decision) => {
        if (decision.ok) {
          warnUnknownScopes(decision.principal);
          sessions.admit(client, decision.principal, decision.secretHash);
          deps.throttle?.recordSuccess(username);
          done(null, true);
          return;
        }
        deps.refused?.inc();
        logger.warn({ clientId: printable(facts.clientId), username: username === undefined ? undefined : printable(username), reason: decision.reason, returnCode: returnCodeOf[decision.reason] }, 'mqtt.auth-refused');
        const refuse = (): void => done(connackError(decision.reason), false);
        if (!deps.throttle || !guessing.has(decision.reason)) return refuse();
        // Dropped: `done` is never called; aedes forgets the client when its socket closes.
        deps.throttle.refuse({ address: deps.remoteAddress?.(client), username }, refuse, () => client.conn.destroy());
      });
  };
}
