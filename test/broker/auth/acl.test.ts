import { describe, it, expect } from 'vitest';
import { mayPublish, maySubscribe, mayUseWill, type Principal } from '../../../broker/auth/acl.js';

/** Provisioned with `--lists default,site-a`. */
const a: Principal = { kind: 'terminal', terminalId: 'gate-a-1', checkpointCode: '10000000000008', listScopes: ['default', 'site-a'] };
/** The same terminal as added before the central recorded scopes (schema 3): scopes unknown. */
const legacy: Principal = { ...a, listScopes: null };
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
    ['qrgate/v1/lists/site-a/files/s7/0', true],
    ['qrgate/v1/lists/site-a/+', true],
    ['qrgate/v1/lists/site-b/manifest', false], // a scope it does not hold
    ['qrgate/v1/lists/site-b/#', false],
    ['qrgate/v1/lists/site-a-b/manifest', false], // a prefix of its scope is no match
    ['qrgate/v1/lists/site/manifest', false],
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

  it.each([
    ['qrgate/v1/lists/site-b/manifest', true], // any valid scope: its own were never recorded
    ['qrgate/v1/lists/default/#', true],
    ['qrgate/v1/lists/+/#', false], // but still one named scope, never a wildcard
    ['qrgate/v1/lists/#', false],
    ['qrgate/v1/lists/Site-B/#', false],
    ['qrgate/v1/lists/site-b', false],
    [`${own}/cmd/#`, true],
    [`${other}/cmd/#`, false],
  ])('terminal A added before scopes were recorded -> %s: %s', (filter, allowed) => {
    expect(maySubscribe(legacy, filter)).toBe(allowed);
  });

  it('a terminal provisioned with no list scope subscribes to no list', () => {
    expect(maySubscribe({ ...a, listScopes: [] }, 'qrgate/v1/lists/default/manifest')).toBe(false);
    expect(maySubscribe({ ...a, listScopes: [] }, `${own}/cmd/#`)).toBe(true);
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
