import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkCommand, maxCommandBytes } from '../../../gateway/uplink/commandCheck.js';
import { commandTopic } from '../../../protocol/topics.js';

const self = { checkpointCode: '10000000000008', terminalId: 'gate-1' };
const now = Date.parse('2026-11-23T08:00:00Z');
const body = (overrides: Record<string, unknown> = {}) => ({
  v: 1,
  id: randomUUID(),
  issuedAt: new Date(now - 1000).toISOString(),
  expiresAt: new Date(now + 30_000).toISOString(),
  ...overrides,
});
const message = (name: string, payload: unknown, retain = false, topic = commandTopic(self.checkpointCode, self.terminalId, name)) => ({
  topic,
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  retain,
});

describe('checkCommand', () => {
  it('accepts a fresh, well-formed, non-retained command for this terminal', () => {
    const command = body({ lane: 'in' });
    expect(checkCommand(message('open', command), self, now)).toEqual({ ok: true, name: 'open', command });
  });

  it.each([
    ['retained', message('open', body(), true)],
    ['expired', message('open', body({ expiresAt: new Date(now - 1).toISOString() }))],
    ['malformed', message('open', '{"v":1')],
    ['malformed', message('open', Buffer.from([0xff, 0x00]))],
    ['malformed', message('open', body({ v: 2 }))],
    ['malformed', message('open', body({ extra: true }))],
    ['malformed', message('open', body({ id: 'x' }))],
    ['unknown-command', message('reboot', body())],
    ['too-large', message('open', body({ lane: 'x'.repeat(maxCommandBytes) }))],
    ['foreign-topic', message('open', body(), false, commandTopic(self.checkpointCode, 'gate-2', 'open'))],
    ['foreign-topic', message('open', body(), false, 'qrgate/v1/cp/10000000000008/t/gate-1/cmd/open/deeper')],
  ])('refuses %s', (reason, input) => {
    expect(checkCommand(input, self, now)).toMatchObject({ ok: false, reason });
  });

  it('reports a retained command as retained even when it is also expired or malformed', () => {
    expect(checkCommand(message('open', 'garbage', true), self, now)).toMatchObject({ ok: false, reason: 'retained', name: 'open' });
  });
});
