import type { EnrollmentQr } from '../../protocol/enrollment.js';
import { listScopeSchema } from '../../protocol/lists/index.js';
import { enrollRequestTopic, enrollResultTopic, parseTopic, terminalPrefix, topicRoot, type ParsedTopic } from '../../protocol/topics.js';

/**
 * Who may publish and subscribe where (DESIGN.md "MQTT"): a terminal publishes only under
 * its own `cp/{code}/t/{terminal}/` and subscribes only to its own `cmd/…`, its own
 * `receipts` and the topics of its own list scopes. Pure functions of the principal and the topic, so the
 * whole matrix is testable without a socket; the aedes hooks (authorizePublish.ts,
 * authorizeSubscribe.ts) only translate the answers into MQTT.
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
  if (!hasLiteralIds(principal)) return null;
  if (parsed === null || parsed.kind === 'cmd' || parsed.kind === 'list') return null;
  return parsed.terminalId === principal.terminalId && parsed.checkpointCode === principal.checkpointCode ? parsed : null;
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
 * What a terminal may subscribe to under its own `cp/{code}/t/{terminal}/`, as data, so that
 * whoever writes another broker's ACL from ours (`qrgate mosquitto-config`) reads the same
 * rows maySubscribe does. `filter` is relative to terminalPrefix(); a rule ending in `/#`
 * also grants one named level below it (`cmd/open`), never a `+` there. The list scopes a
 * terminal may read depend on its provisioning and are not in this table (see maySubscribe).
 * What it may publish there is the TerminalLeaf list of protocol/topics.ts.
 */
export const terminalSubscribeRules: ReadonlyArray<{ readonly filter: string; readonly why: string }> = [
  { filter: 'cmd/#', why: 'commands, central -> terminal (commandFilter)' },
  { filter: 'receipts', why: "the store's receipts after each commit, central -> terminal (receiptsTopic)" },
];

/** `rest`: the filter below the terminal's own prefix. */
function matchesOwnRule(rule: string, rest: string): boolean {
  if (rest === rule) return true;
  if (!rule.endsWith('/#')) return false;
  const base = rule.slice(0, -1);
  return rest.startsWith(base) && isLiteralLevel(rest.slice(base.length));
}

/**
 * A subscription filter (already syntax-checked by aedes: `#` last, `+` a whole level,
 * depth within maxTopicLevels). Wildcards are allowed only below a level that pins the
 * subscription to what is the terminal's: `cmd/#` of its own prefix, or one named list scope.
 */
export function maySubscribe(principal: Principal, filter: string): boolean {
  if (principal.kind === 'lab') return true;
  if (principal.kind === 'enroll') return filter === enrollResultTopic(principal.clientId);
  if (!hasLiteralIds(principal)) return false;
  const own = terminalPrefix(principal.checkpointCode, principal.terminalId);
  if (filter.startsWith(own)) return terminalSubscribeRules.some((rule) => matchesOwnRule(rule.filter, filter.slice(own.length)));
  const listRoot = `${topicRoot}/lists/`;
  if (filter.startsWith(listRoot)) {
    const [scope, ...rest] = filter.slice(listRoot.length).split('/');
    // The scope level is checked first, so `+`, `#` or an invalid name never reach the lookup.
    if (scope === undefined || !listScopeSchema.safeParse(scope).success || rest.length === 0 || rest[0] === '') return false;
    return holdsScope(principal.listScopes, scope);
  }
  return false;
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
