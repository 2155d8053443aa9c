import { listTopicPrefix, terminalLeaves, terminalPrefix, topicRoot } from '../../protocol/topics.js';

/**
 * A terminal's rights as data (DESIGN.md "MQTT"), read by both brokers we configure: our
 * aedes hooks (acl.ts) and the ACL file written for Mosquitto (broker/mosquitto). A topic
 * added here reaches both, so they cannot drift apart.
 *
 * Each grant is an MQTT filter below one of two roots:
 *   - `own`:  the terminal's own `qrgate/v1/cp/{code}/t/{terminal}/`
 *   - `list`: `qrgate/v1/lists/{scope}/` of each list scope it was provisioned with
 *
 * What a grant covers: a literal filter, that topic; `P/#`, what lies below `P/`, every
 * level non-empty, never `P` itself nor `P/`. Mosquitto's `#` also matches those two, so the
 * ACL file denies them by name; an empty level deeper down (`P/a//b`) it cannot deny, and
 * only the central's account may publish there (docs/mosquitto.md).
 */

export type GrantRoot = 'own' | 'list';

export interface TopicGrant {
  /** publish: the terminal sends there; subscribe: it receives what the central sends there. */
  readonly access: 'publish' | 'subscribe';
  readonly root: GrantRoot;
  /** Levels below the root; a subscribe grant may end in `#`. */
  readonly filter: string;
}

export const terminalGrants: readonly TopicGrant[] = [
  /** events, status, telemetry, pending (manual-confirm scans for the guard screen), cmd-acks: a new leaf there is published here too. */
  ...terminalLeaves.map((leaf): TopicGrant => ({ access: 'publish', root: 'own', filter: leaf })),
  /** Commands, central -> terminal only. */
  { access: 'subscribe', root: 'own', filter: 'cmd/#' },
  /** The store's receipts after each commit, central -> terminal only (receiptsTopic). */
  { access: 'subscribe', root: 'own', filter: 'receipts' },
  /** The manifests and files of its lists. */
  { access: 'subscribe', root: 'list', filter: '#' },
];

/** A terminal as the grants see it; `listScopes` null: any scope (acl.ts `holdsScope`). */
export interface GrantHolder {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly listScopes: readonly string[] | null;
}

/** Where `root` starts for `holder`, ending in `/`; `+` stands for any scope when its scopes are unknown. */
export function grantRoots(holder: GrantHolder, root: GrantRoot): string[] {
  if (root === 'own') return [terminalPrefix(holder.checkpointCode, holder.terminalId)];
  return holder.listScopes === null ? [`${topicRoot}/lists/+/`] : holder.listScopes.map(listTopicPrefix);
}

/** The absolute filters of `holder`'s grants of one access kind. */
export function absoluteGrants(holder: GrantHolder, access: TopicGrant['access']): string[] {
  return terminalGrants.filter((g) => g.access === access).flatMap((g) => grantRoots(holder, g.root).map((root) => `${root}${g.filter}`));
}

/**
 * Whether every topic `filter` can match (levels below a root) lies within `grant`, as the
 * top of this file defines it. A topic name is a filter without wildcards. Levels are never
 * empty and never hold NUL [MQTT-1.5.3-2]; a wildcard in `filter` only where `grant` is
 * open (at or below its `#`, or at its `+`).
 */
export function withinGrant(grant: string, filter: string): boolean {
  const g = grant.split('/');
  const f = filter.split('/');
  for (let i = 0; i < g.length; i++) {
    const level = f[i];
    if (level === undefined || level === '' || level.includes('\0')) return false;
    if (g[i] === '#') return f.slice(i).every((rest, j, below) => rest !== '' && !rest.includes('\0') && (rest !== '#' || j === below.length - 1));
    if (g[i] === '+') {
      if (level === '#') return false;
      continue;
    }
    if (level !== g[i]) return false;
  }
  return f.length === g.length;
}
