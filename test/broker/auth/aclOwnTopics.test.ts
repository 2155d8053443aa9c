import { describe, expect, it } from 'vitest';
import { mayPublish, type Principal } from '../../../broker/auth/acl.js';
import { commandTopic, listManifestTopic, terminalTopic } from '../../../protocol/topics.js';

/** A terminal may not speak for the central, even under its own prefix (found by mutation testing). */
describe('a terminal publishing under its own prefix', () => {
  const terminal: Principal = { kind: 'terminal', terminalId: 'gate-a-1', checkpointCode: '10000000000008', listScopes: ['site-a'] };

  it('may publish its events, status and telemetry', () => {
    for (const leaf of ['events', 'status', 'telemetry'] as const) expect(mayPublish(terminal, terminalTopic('10000000000008', 'gate-a-1', leaf))).toBe(true);
  });

  it('may not publish a command to itself, nor a list of its own scope', () => {
    expect(mayPublish(terminal, commandTopic('10000000000008', 'gate-a-1', 'open'))).toBe(false);
    expect(mayPublish(terminal, listManifestTopic('site-a'))).toBe(false);
  });
});
