import type { EnrollmentQr } from '../../protocol/enrollment.js';
import { listScopeSchema } from '../../protocol/lists/index.js';
import { enrollRequestTopic, enrollResultTopic, parseTopic, terminalPrefix, topicRoot, type ParsedTopic } from '../../protocol/topics.js';
import { terminalGrants, withinGrant, type GrantRoot, type TopicGrant } from './aclGrants.js';

/**
 * Who may publish and subscribe where (DESIGN.md "MQTT"): a terminal publishes only under
 * its own `cp/{code}/t/{terminal}/` and subscribes only to its own `cmd/…`, its own
 * `receipts` and the topics of its own list scopes. What a terminal may do is data (aclGrants.ts), shared with
 * the ACL file written for Mosquitto; here it is read for aedes. Pure functions of the
 * principal and the topic, so the whole matrix is testable without a socket; the aedes
 * hooks (authorizePublish.ts, authorizeSubscribe.ts) only translate the answers into MQTT.
 */

export type Principal =
  | {
      readonly kind: 'terminal';
      readonly terminalId: string;
      readonly checkpointCode: string;
      /** As stored at provisioning (TerminalCredentials.listScopes); null: added before scopes were recorded. */
      readonly listScopes: readonly string[] | null;
    }
  /** `lab: true` only: a client without credentials, with full access. */
  | { readonly kind: 'lab' }
  /** A device enrolling by QR: its own request and result topics, nothing else (authenticate.ts). */
  | { readonly kind: 'enroll'; readonly clientId: string; readonly qr: EnrollmentQr };

/** What an enrolling device may publish: its request, once it has logged in with a QR. */
export type EnrollRequestTopic = { readonly kind: 'enroll-request' };

/** `$SYS/` belongs to the broker; a client publishing there could fake broker heartbeats (aedes#597). */
export function isReservedTopic(topic: string): boolean {
  return topic.startsWith('$');
}

/**
 * A topic NAME (what PUBLISH and a will carry) is never empty and never holds a wildcard
 * [MQTT-4.7.1-1], [MQTT-4.7.3-1], nor NUL [MQTT-1.5.3-2]. aedes closes a client that
 * PUBLISHes such a name, but it does not look at will topics at all: without this check a
 * lab client's will could be published to `#`.
 */
export function isTopicName(topic: string): boolean {
  return topic.length > 0 && !/[+#\0]/.test(topic);
}

/**
 * Ids from the store become topic levels of the principal's own prefix. Provisioning only
 * writes ids that are literal levels, but a row that is not (a hand-edited store, an import)
 * must not turn `…/t/{id}/cmd/#` into a wildcard: such a terminal gets nothing.
 */
function hasLiteralIds(principal: Principal & { kind: 'terminal' }): boolean {
  return isLiteralLevel(principal.terminalId) && isLiteralLevel(principal.checkpointCode);
}

/** The parsed topic when `principal` may publish to it, otherwise null. */
export function authorizedPublishTopic(principal: Principal, topic: string): ParsedTopic | EnrollRequestTopic | { readonly kind: 'other' } | null {
  if (isReservedTopic(topic) || !isTopicName(topic)) return null;
  if (principal.kind === 'enroll') return topic === enrollRequestTopic(principal.clientId) ? { kind: 'enroll-request' } : null;
  const parsed = parseTopic(topic);
  if (principal.kind === 'lab') return parsed ?? { kind: 'other' };
  if (!hasLiteralIds(principal) || parsed === null) return null;
  return granted(principal, 'publish', topic) ? parsed : null;
}

export function mayPublish(principal: Principal, topic: string): boolean {
  return authorizedPublishTopic(principal, topic) !== null;
}

/** A terminal's will is its retained `offline` status on its own status topic, nothing else. */
export function mayUseWill(principal: Principal, topic: string): boolean {
  if (principal.kind === 'lab') return authorizedPublishTopic(principal, topic) !== null;
  if (principal.kind === 'enroll') return false;
  return authorizedPublishTopic(principal, topic)?.kind === 'status';
}

/**
 * A subscription filter (already syntax-checked by aedes: `#` last, `+` a whole level,
 * depth within maxTopicLevels). Allowed when it lies within one of the terminal's subscribe
 * grants (aclGrants.ts `withinGrant`): wildcards only below a level that pins it to what is
 * the terminal's, its own `cmd/` or one named list scope.
 */
export function maySubscribe(principal: Principal, filter: string): boolean {
  if (principal.kind === 'lab') return true;
  if (principal.kind === 'enroll') return filter === enrollResultTopic(principal.clientId);
  if (!hasLiteralIds(principal)) return false;
  return granted(principal, 'subscribe', filter);
}

type TerminalPrincipal = Principal & { kind: 'terminal' };

/** What `filter` is below `root` for this terminal, or null when it lies outside that root. */
function belowRoot(principal: TerminalPrincipal, root: GrantRoot, filter: string): string | null {
  if (root === 'own') {
    const own = terminalPrefix(principal.checkpointCode, principal.terminalId);
    return filter.startsWith(own) ? filter.slice(own.length) : null;
  }
  const listRoot = `${topicRoot}/lists/`;
  if (!filter.startsWith(listRoot)) return null;
  const rest = filter.slice(listRoot.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const scope = rest.slice(0, slash);
  // The scope level is checked first, so `+`, `#` or an invalid name never reach the lookup.
  if (!listScopeSchema.safeParse(scope).success || !holdsScope(principal.listScopes, scope)) return null;
  return rest.slice(slash + 1);
}

function granted(principal: TerminalPrincipal, access: TopicGrant['access'], filter: string): boolean {
  return terminalGrants.some((grant) => {
    if (grant.access !== access) return false;
    const below = belowRoot(principal, grant.root, filter);
    return below !== null && withinGrant(grant.filter, below);
  });
}

/**
 * Null: a terminal added before the central recorded scopes. Refusing it would cut a site
 * off its lists at the upgrade, and guessing `default` would do the same to every site that
 * syncs another scope; so it keeps any scope, and authenticate.ts warns
 * (`auth.list-scopes-unknown`) until it is re-added (docs/central.md).
 */
function holdsScope(listScopes: readonly string[] | null, scope: string): boolean {
  return listScopes === null || listScopes.includes(scope);
}

/** One topic level: not empty, no separator, no wildcard, no NUL [MQTT-1.5.3-2]. */
export function isLiteralLevel(level: string): boolean {
  return level.length > 0 && !/[/+#\0]/.test(level);
}
