import { describe, expect, it } from 'vitest';
import { absoluteGrants, withinGrant } from '../../../broker/auth/aclGrants.js';

describe('aclGrants: what a grant covers', () => {
  // prettier-ignore
  const rows: ReadonlyArray<readonly [grant: string, filter: string, within: boolean]> = [
    ['events',  'events',      true],
    ['events',  'events/x',    false],
    ['events',  'event',       false],
    ['events',  '+',           false],   // a literal grant never covers a wildcard
    ['cmd/#',   'cmd/open',    true],
    ['cmd/#',   'cmd/a/b',     true],
    ['cmd/#',   'cmd/#',       true],
    ['cmd/#',   'cmd/+',       true],
    ['cmd/#',   'cmd/+/#',     true],
    ['cmd/#',   'cmd',         false],   // the level above is not below it
    ['cmd/#',   'cmd/',        false],   // nor an empty level
    ['cmd/#',   'cmd/a//b',    false],
    ['cmd/#',   'cmd/#/a',     false],   // `#` only last
    ['cmd/#',   'cmd/op\0en',  false],   // NUL [MQTT-1.5.3-2]
    ['cmd/#',   '#',           false],
    ['cmd/#',   '+/open',      false],
    ['a/+/c',   'a/b/c',       true],
    ['a/+/c',   'a/+/c',       true],
    ['a/+/c',   'a/#',         false],
    ['a/+/c',   'a/#/c',       false],
    ['a/+/c',   'a//c',        false],
  ];

  it.each(rows)('%j covers %j: %s', (grant, filter, within) => {
    expect(withinGrant(grant, filter)).toBe(within);
  });

  it('makes absolute filters for a terminal, its own prefix and each of its list scopes; any scope when unknown', () => {
    const gate = { terminalId: 'gate-a', checkpointCode: '10000000000008', listScopes: ['site-a', 'site-b'] };
    expect(absoluteGrants(gate, 'publish')).toEqual(['events', 'status', 'telemetry', 'pending', 'cmd-acks'].map((leaf) => `qrgate/v1/cp/10000000000008/t/gate-a/${leaf}`));
    expect(absoluteGrants(gate, 'subscribe')).toEqual([
      'qrgate/v1/cp/10000000000008/t/gate-a/cmd/#',
      'qrgate/v1/cp/10000000000008/t/gate-a/receipts',
      'qrgate/v1/lists/site-a/#',
      'qrgate/v1/lists/site-b/#',
    ]);
    expect(absoluteGrants({ ...gate, listScopes: null }, 'subscribe')).toContain('qrgate/v1/lists/+/#');
    expect(absoluteGrants({ ...gate, listScopes: [] }, 'subscribe')).toEqual(['qrgate/v1/cp/10000000000008/t/gate-a/cmd/#', 'qrgate/v1/cp/10000000000008/t/gate-a/receipts']);
  });
});
