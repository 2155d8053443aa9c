import type { Principal } from '../../../broker/auth/acl.js';

/**
 * The whole ACL (DESIGN.md "MQTT") as ONE table: every principal x every topic x every
 * action, with the expected answer written in the table. Asked of the pure functions and of
 * our broker (aclMatrix.test.ts), and of Mosquitto configured by `qrgate mosquitto-config`
 * (test/broker/mosquitto/mosquittoAcl.test.ts): one table, every broker.
 */

export const X = '10000000000008';
export const Y = '20000000000004';

/** Everyone the broker can meet. */
export const principals = {
  /** terminal A at checkpoint X, provisioned with `--lists site-a` */
  A: { kind: 'terminal', terminalId: 'gate-a', checkpointCode: X, listScopes: ['site-a'] },
  /** terminal B at the same checkpoint, with `--lists site-b` */
  B: { kind: 'terminal', terminalId: 'gate-b', checkpointCode: X, listScopes: ['site-b'] },
  /** terminal C at another checkpoint, same scope as A */
  C: { kind: 'terminal', terminalId: 'gate-c', checkpointCode: Y, listScopes: ['site-a'] },
  /** terminal L added before the central recorded scopes: any one named scope */
  L: { kind: 'terminal', terminalId: 'gate-l', checkpointCode: X, listScopes: null },
  /** terminal E provisioned with no list scope at all */
  E: { kind: 'terminal', terminalId: 'gate-e', checkpointCode: X, listScopes: [] },
  /** a lab client (`lab: true`, no credentials) */
  lab: { kind: 'lab' },
} as const satisfies Record<string, Principal>;

export type Who = keyof typeof principals;
export type Action = 'publish' | 'subscribe' | 'will';
export const everyone = Object.keys(principals) as Who[];
export const actions: readonly Action[] = ['publish', 'subscribe', 'will'];

export const tA = `qrgate/v1/cp/${X}/t/gate-a`;
export const tB = `qrgate/v1/cp/${X}/t/gate-b`;
export const tC = `qrgate/v1/cp/${Y}/t/gate-c`;
export const lists = 'qrgate/v1/lists';
/** An enrolling device's own topics (the enrolling principal has a table of its own in aclMatrix.test.ts). */
const enroll = 'qrgate/v1/enroll/enroll-0123456789abcdef0123456789abcdef';

/** One row: a topic, then who may publish to it, subscribe to it, and leave a will on it ('' = nobody). */
export type Row = readonly [topic: string, publish: string, subscribe: string, will: string];

// prettier-ignore
export const matrix: readonly Row[] = [
  //  topic                                   publish       subscribe        will
  [`${tA}/events`,                            'A lab',      'lab',           'lab'],
  [`${tA}/status`,                            'A lab',      'lab',           'A lab'],
  [`${tA}/telemetry`,                         'A lab',      'lab',           'lab'],
  [`${tA}/pending`,                           'A lab',      'lab',           'lab'],   // manual-confirm scans, for the guard screen
  [`${tA}/pending/x`,                         'lab',        'lab',           'lab'],
  [`${tB}/events`,                            'B lab',      'lab',           'lab'],
  [`${tB}/status`,                            'B lab',      'lab',           'B lab'],
  [`${tB}/pending`,                           'B lab',      'lab',           'lab'],
  [`${tA}/cmd-acks`,                          'A lab',      'lab',           'lab'],   // what A did with each command (issue 15 point 6)
  [`${tA}/cmd-acks/x`,                        'lab',        'lab',           'lab'],
  [`${tB}/cmd-acks`,                          'B lab',      'lab',           'lab'],
  [`${tA}/receipts`,                          'lab',        'A lab',         'lab'],   // the store's receipts flow central -> terminal only
  [`${tA}/receipts/x`,                        'lab',        'lab',           'lab'],
  [`${tA}/receipts/#`,                        '',           'lab',           ''],
  [`${tB}/receipts`,                          'lab',        'B lab',         'lab'],
  [`qrgate/v1/cp/${X}/t/+/receipts`,          '',           'lab',           ''],
  [`${tC}/telemetry`,                         'C lab',      'lab',           'lab'],
  [`qrgate/v1/cp/${Y}/t/gate-a/status`,       'lab',        'lab',           'lab'],   // A's id under another checkpoint
  [`qrgate/v1/cp/${X}/t/GATE-A/events`,       'lab',        'lab',           'lab'],   // id level differs in case only
  [`qrgate/v1/cp/${X}/t/gate-a-x/events`,     'lab',        'lab',           'lab'],   // A's id as a prefix
  [`${tA}/x/events`,                          'lab',        'lab',           'lab'],   // one level more
  [`${tA}/events/extra`,                      'lab',        'lab',           'lab'],
  [`${tA}/cmd/open`,                          'lab',        'A lab',         'lab'],   // commands flow central -> terminal only
  [`${tA}/cmd/`,                              'lab',        'lab',           'lab'],   // an empty command level
  [`${tA}/other`,                             'lab',        'lab',           'lab'],
  [`${tA}/cmd/op\0en`,                        '',           'lab',           ''],      // NUL [MQTT-1.5.3-2]
  [`${tA}/cmd/#`,                             '',           'A lab',         ''],
  [`${tA}/cmd/+`,                             '',           'A lab',         ''],      // within its cmd/# (aclGrants.ts): the same commands
  [`${tA}/#`,                                 '',           'lab',           ''],      // would include its own events
  [`${tB}/cmd/open`,                          'lab',        'B lab',         'lab'],
  [`${tB}/cmd/#`,                             '',           'B lab',         ''],
  [`${tC}/cmd/#`,                             '',           'C lab',         ''],
  [`qrgate/v1/cp/${X}/t/+/cmd/#`,             '',           'lab',           ''],
  [`qrgate/v1/cp/+/t/gate-a/cmd/#`,           '',           'lab',           ''],
  ['qrgate/v1/cp/+/t/+/events',               '',           'lab',           ''],
  [`${lists}/site-a/manifest`,                'lab',        'A C L lab',     'lab'],
  [`${lists}/site-a/files/s7/0`,              'lab',        'A C L lab',     'lab'],
  [`${lists}/site-a/#`,                       '',           'A C L lab',     ''],
  [`${lists}/site-a/+`,                       '',           'A C L lab',     ''],
  [`${lists}/site-b/manifest`,                'lab',        'B L lab',       'lab'],
  [`${lists}/site-b/#`,                       '',           'B L lab',       ''],
  [`${lists}/site-a-b/manifest`,              'lab',        'L lab',         'lab'],   // a prefix of a scope is no match
  [`${lists}/Site-A/#`,                       '',           'lab',           ''],      // not a valid scope name
  [`${lists}/site-a`,                         'lab',        'lab',           'lab'],   // a scope with nothing below
  [`${lists}/+/manifest`,                     '',           'lab',           ''],
  [`${lists}/+/#`,                            '',           'lab',           ''],
  [`${lists}/#`,                              '',           'lab',           ''],
  ['qrgate/v1/#',                             '',           'lab',           ''],
  ['#',                                       '',           'lab',           ''],
  ['+',                                       '',           'lab',           ''],
  ['+/#',                                     '',           'lab',           ''],
  ['$SYS/broker/heartbeat',                   '',           'lab',           ''],      // the broker's own (aedes#597)
  ['$SYS/#',                                  '',           'lab',           ''],
  ['some/other/topic',                        'lab',        'lab',           'lab'],
  [`${enroll}/request`,                       'lab',        'lab',           'lab'],   // a device enrolling by QR: our broker only (docs/enrollment.md)
  [`${enroll}/result`,                        'lab',        'lab',           'lab'],
];

export interface Cell {
  readonly who: Who;
  readonly action: Action;
  readonly topic: string;
  readonly allowed: boolean;
}

export function allowedBy(row: Row, action: Action): Set<string> {
  const column = row[actions.indexOf(action) + 1]!;
  return new Set(column.split(' ').filter(Boolean));
}

export const cells: readonly Cell[] = matrix.flatMap((row) =>
  everyone.flatMap((who) => actions.map((action) => ({ who, action, topic: row[0], allowed: allowedBy(row, action).has(who) }))),
);

/** What a cell looks like in a failure diff. */
export const show = (topic: string, allowed: boolean): string => `${JSON.stringify(topic)}: ${allowed ? 'allowed' : 'refused'}`;

export function expected(who: Who, action: Action): string[] {
  return cells.filter((c) => c.who === who && c.action === action).map((c) => show(c.topic, c.allowed));
}
