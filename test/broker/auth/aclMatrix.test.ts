import { describe, it, expect } from 'vitest';
import { mayPublish, maySubscribe, mayUseWill, type Principal } from '../../../broker/auth/acl.js';
import { actions, cells, everyone, lists, matrix, principals, tA, type Action } from './aclMatrixTable.js';

/**
 * The whole ACL (DESIGN.md "MQTT") as ONE table: every principal x every topic x every
 * action, with the expected answer written in the table (aclMatrixTable.ts). Here against the
 * pure functions of broker/auth/acl.ts; aclMatrixSockets.test.ts holds the same table to a
 * real broker over real sockets. This half alone guards acl.ts under mutation testing
 * (test/mutation/modules.mjs): it runs in a second, the socket half in ~20.
 */

describe('ACL matrix: the pure functions (broker/auth/acl.ts)', () => {
  const ask: Record<Action, (principal: Principal, topic: string) => boolean> = { publish: mayPublish, subscribe: maySubscribe, will: mayUseWill };

  it('has every principal x topic x action', () => {
    expect(cells).toHaveLength(matrix.length * everyone.length * actions.length);
    expect(new Set(matrix.map((row) => row[0])).size).toBe(matrix.length);
  });

  it.each(cells.map((c) => [c.who, c.action, c.topic, c.allowed] as const))('%s %s %j: %s', (who, action, topic, allowed) => {
    expect(ask[action](principals[who], topic)).toBe(allowed);
  });

  it('a terminal whose stored id or code is not a literal topic level gets nothing at all', () => {
    // Provisioning never writes such a row; a hand-edited store must not make `…/t/+/cmd/#` its own.
    for (const bad of [{ terminalId: '+' }, { terminalId: '#' }, { terminalId: 'a/b' }, { terminalId: 'a\0' }, { terminalId: '' }, { checkpointCode: '+' }]) {
      const principal: Principal = { ...principals.A, ...bad };
      const own = `qrgate/v1/cp/${principal.checkpointCode}/t/${principal.terminalId}`;
      expect([mayPublish(principal, `${own}/events`), maySubscribe(principal, `${own}/cmd/#`), mayUseWill(principal, `${own}/status`)]).toEqual([false, false, false]);
      expect(maySubscribe(principal, `${lists}/site-a/manifest`)).toBe(false);
    }
  });
});

describe('ACL matrix: a device enrolling by QR (docs/enrollment.md)', () => {
  const me = 'enroll-0123456789abcdef0123456789abcdef';
  const other = 'enroll-fedcba9876543210fedcba9876543210';
  const qr = { text: 'QGE1.x.y', body: {} as never, signed: Buffer.alloc(0), signature: Buffer.alloc(64) };
  const device: Principal = { kind: 'enroll', clientId: me, qr };
  // prettier-ignore
  const rows: ReadonlyArray<readonly [topic: string, publish: boolean, subscribe: boolean]> = [
    [`qrgate/v1/enroll/${me}/request`,    true,  false],
    [`qrgate/v1/enroll/${me}/result`,     false, true],
    [`qrgate/v1/enroll/${other}/request`, false, false],
    [`qrgate/v1/enroll/${other}/result`,  false, false],   // another device's secret
    [`qrgate/v1/enroll/${me}/#`,          false, false],
    ['qrgate/v1/enroll/+/result',         false, false],
    ['qrgate/v1/enroll/#',                false, false],
    [`${tA}/events`,                      false, false],
    [`${tA}/status`,                      false, false],
    [`${tA}/cmd/#`,                       false, false],
    [`${lists}/site-a/manifest`,          false, false],
    ['#',                                 false, false],
    ['$SYS/#',                            false, false],
  ];

  it.each(rows)('%j: publish %s, subscribe %s, never a will', (topic, publish, subscribe) => {
    expect([mayPublish(device, topic), maySubscribe(device, topic), mayUseWill(device, topic)]).toEqual([publish, subscribe, false]);
  });

  it('no terminal may touch the enrollment topics', () => {
    for (const who of ['A', 'B', 'C', 'L', 'E'] as const) {
      expect(mayPublish(principals[who], `qrgate/v1/enroll/${me}/request`)).toBe(false);
      expect(maySubscribe(principals[who], `qrgate/v1/enroll/${me}/result`)).toBe(false);
    }
  });
});
