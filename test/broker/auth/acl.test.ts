import { describe, it, expect } from 'vitest';
import { mayPublish, maySubscribe, mayUseWill, type Principal } from '../../../broker/auth/acl.js';

const a: Principal = { kind: 'terminal', terminalId: 'gate-a-1', checkpointCode: '10000000000008' };
const lab: Principal = { kind: 'lab' };
const own = 'qrgate/v1/cp/10000000000008/t/gate-a-1';
const other = 'qrgate/v1/cp/10000000000008/t/gate-a-2';
const otherCheckpoint = 'qrgate/v1/cp/20000000000004/t/gate-a-1';

describe('ACL: publish', () => {
  it.each([
    [`${own}/events`, true],
    [`${own}/status`, true],
    [`${own}/telemetry`, true],
    [`${own}/cmd/open`, false], // commands flow central -> terminal only
    [`${own}/events/extra`, false],
    [`${own}/other`, false],
    [`${other}/events`, false], // another terminal
    [`${otherCheckpoint}/events`, false], // its id under another checkpoint
    ['qrgate/v1/lists/default/manifest', false],
    ['$SYS/broker/heartbeat', false],
    ['anything/else', false],
  ])('terminal A -> %s: %s', (topic, allowed) => {
    expect(mayPublish(a, topic)).toBe(allowed);
  });

  it('lab clients publish anywhere except $ topics', () => {
    expect(mayPublish(lab, 'anything/else')).toBe(true);
    expect(mayPublish(lab, `${other}/events`)).toBe(true);
    expect(mayPublish(lab, '$SYS/x')).toBe(false);
  });
});

describe('ACL: subscribe', () => {
  it.each([
    [`${own}/cmd/#`, true],
    [`${own}/cmd/open`, true],
    [`${own}/cmd/+`, false],
    [`${own}/cmd/`, false],
    [`${own}/#`, false], // would include its own events and status
    [`${own}/events`, false],
    [`${other}/cmd/#`, false],
    [`${other}/cmd/open`, false],
    ['qrgate/v1/cp/+/t/gate-a-1/cmd/#', false],
    ['qrgate/v1/lists/default/#', true],
    ['qrgate/v1/lists/site-a/manifest', true],
    ['qrgate/v1/lists/site-a/+', true],
    ['qrgate/v1/lists/+/#', false],
    ['qrgate/v1/lists/#', false],
    ['qrgate/v1/lists/Site-A/#', false], // not a valid scope
    ['qrgate/v1/lists/site-a', false],
    ['qrgate/v1/#', false],
    ['#', false],
    ['+/#', false],
    ['$SYS/#', false],
  ])('terminal A -> %s: %s', (filter, allowed) => {
    expect(maySubscribe(a, filter)).toBe(allowed);
  });

  it('lab clients subscribe to anything', () => {
    expect(maySubscribe(lab, '#')).toBe(true);
  });
});

describe('ACL: wills', () => {
  it('a terminal will may only be its own status', () => {
    expect(mayUseWill(a, `${own}/status`)).toBe(true);
    expect(mayUseWill(a, `${own}/events`)).toBe(false);
    expect(mayUseWill(a, `${other}/status`)).toBe(false);
    expect(mayUseWill(lab, 'lab/will')).toBe(true);
  });
});
