import { topicRoot } from '../../protocol/topics.js';
import { absoluteGrants, terminalGrants, type GrantHolder } from '../auth/aclGrants.js';

/**
 * The text of the three files `qrgate mosquitto-config` writes, from the same grants our
 * own broker enforces (broker/auth/aclGrants.ts). Pure: the command gathers the accounts.
 *
 * Mosquitto's acl_file (mosquitto.conf(5), 2.0): `user NAME` starts that user's rules,
 * `topic read|write|readwrite|deny FILTER` follow. `deny` rules are checked first. `read`
 * is checked for each message at delivery, not at SUBSCRIBE (2.0 grants every filter), so a
 * terminal subscribed to `#` still receives only what it may read.
 */

export interface MosquittoAccount {
  readonly username: string;
  /** `$7$…` (passwordHash.ts). */
  readonly hash: string;
}

/** Refuses what would break a line of either file: ids and scopes never hold these, but a hand-edited store might. */
function token(text: string, what: string): string {
  if (text === '' || /[\s\0]/.test(text)) throw new Error(`refusing to write ${what} ${JSON.stringify(text)} into a Mosquitto file`);
  return text;
}

export function passwordFileText(accounts: readonly MosquittoAccount[]): string {
  return accounts.map((a) => `${token(a.username.includes(':') ? '' : a.username, 'the user name')}:${token(a.hash, 'a hash')}\n`).join('');
}

/**
 * A `#` grant covers what lies below its prefix, not the prefix itself nor an empty first
 * level under it (aclGrants.ts); Mosquitto's `#` matches both, so they are denied by name.
 */
function grantLines(access: 'read' | 'write', filter: string): string[] {
  token(filter, 'the topic filter');
  if (!filter.endsWith('/#')) return [`topic ${access} ${filter}`];
  const prefix = filter.slice(0, -2);
  return [`topic ${access} ${filter}`, `topic deny ${prefix}`, `topic deny ${prefix}/`];
}

export function terminalAclBlock(holder: GrantHolder): string[] {
  const note = holder.listScopes === null ? ' (list scopes never recorded: any scope, as on our broker)' : '';
  return [
    `# terminal ${holder.terminalId} at checkpoint ${holder.checkpointCode}${note}`,
    `user ${token(holder.terminalId, 'the terminal id')}`,
    ...absoluteGrants(holder, 'publish').flatMap((f) => grantLines('write', f)),
    ...absoluteGrants(holder, 'subscribe').flatMap((f) => grantLines('read', f)),
  ];
}

/**
 * The central's account (`qrgate ingest`): the mirror of every terminal's own topics. It
 * reads what terminals publish under their own prefix and writes what they receive there
 * (commands, and whatever central -> terminal topic is granted next), for any terminal.
 */
export function centralAclBlock(username: string): string[] {
  const anyTerminal = `${topicRoot}/cp/+/t/+/`;
  const own = (access: 'publish' | 'subscribe'): string[] => terminalGrants.filter((g) => g.access === access && g.root === 'own').map((g) => `${anyTerminal}${g.filter}`);
  return [
    `# the central's own account: qrgate ingest --username ${username}`,
    `user ${token(username, 'the user name')}`,
    ...own('publish').map((f) => `topic read ${f}`),
    ...own('subscribe').map((f) => `topic write ${f}`),
  ];
}

export function aclFileText(terminals: readonly GrantHolder[], centralUsername: string): string {
  const blocks = [centralAclBlock(centralUsername), ...terminals.map(terminalAclBlock)];
  return `# Written by qrgate mosquitto-config from the central's store: edits are lost at the next run.\n\n${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}

export function confFragmentText(files: { readonly passwordFile: string; readonly aclFile: string }): string {
  return [
    '# Written by qrgate mosquitto-config (docs/mosquitto.md). Include it from mosquitto.conf',
    '# (Debian: /etc/mosquitto/conf.d/) and reload Mosquitto after every run of the command.',
    '# Global settings: they apply to every listener (1883, and 8883 with TLS).',
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${token(files.passwordFile, 'the path')}`,
    `acl_file ${token(files.aclFile, 'the path')}`,
    '',
    '# The queue Mosquitto keeps for the central account while `qrgate ingest` is away, and its in-flight window:',
    '# Mosquitto drops QoS 1 messages past max_queued_messages (default 1000): terminals with',
    '# central.receipts on send them again; without receipts they are lost (docs/mosquitto.md).',
    '#max_queued_messages 100000',
    '#max_inflight_messages 100',
    '',
  ].join('\n');
}
