import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCommand, maxCommandBytes, type IgnoreReason } from '../../../gateway/uplink/commandCheck.js';
import { commandNames, commandSchema } from '../../../protocol/messages.js';
import { commandTopic, terminalPrefix } from '../../../protocol/topics.js';
import { damagedJson, notJson } from '../../helpers/jsonMutations.js';

/**
 * Whatever arrives on the terminal's command subscription (fast-check): damaged commands,
 * odd topics, retained copies, any clock. checkCommand never throws, and a command runs
 * only when fresh, not retained, well-formed and addressed to this terminal. 1,000 cases.
 */

const RUNS = 1000;
const self = { checkpointCode: '10000000000008', terminalId: 'gate-1' };
const now = Date.parse('2026-11-23T08:00:00Z');
const reasons: readonly IgnoreReason[] = ['foreign-topic', 'retained', 'unknown-command', 'too-large', 'malformed', 'expired', 'duplicate', 'unknown-lane', 'lane-stopped'];

const validBody = JSON.stringify({ v: 1, id: randomUUID(), issuedAt: new Date(now - 1000).toISOString(), expiresAt: new Date(now + 30_000).toISOString(), lane: 'in' });

const topic = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...commandNames).map((name) => commandTopic(self.checkpointCode, self.terminalId, name)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((name) => commandTopic(self.checkpointCode, self.terminalId, name)) },
  { weight: 1, arbitrary: fc.constantFrom('+', '#', 'open/x', '', 'open\u0000', 'OPEN', 'x'.repeat(300)).map((name) => `${terminalPrefix(self.checkpointCode, self.terminalId)}cmd/${name}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(self.checkpointCode, '10000000000009', '+'), fc.constantFrom(self.terminalId, 'gate-2', '', '#')).map(([code, id]) => commandTopic(code, id, 'open')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);

const message = fc.record({
  topic,
  payload: fc.oneof(
    { weight: 4, arbitrary: damagedJson(validBody).map((p) => Buffer.from(p)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from(validBody)) },
    { weight: 1, arbitrary: notJson },
    { weight: 1, arbitrary: fc.nat({ max: 3 * maxCommandBytes }).map((n) => Buffer.alloc(n, 0x20)) },
  ),
  retain: fc.boolean(),
});

describe('checkCommand under anything on the command topics (fast-check)', () => {
  it(`never throws; runs a command only when fresh, not retained, well-formed and ours (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(message, fc.integer({ min: now - 86_400_000, max: now + 86_400_000 }), (incoming, nowMs) => {
        const result = checkCommand(incoming, self, nowMs);
        if (!result.ok) {
          expect(reasons).toContain(result.reason);
          if (result.name !== null) expect(result.name.length).toBeLessThanOrEqual(64);
          return;
        }
        expect(incoming.retain).toBe(false);
        expect(incoming.topic).toBe(commandTopic(self.checkpointCode, self.terminalId, result.name));
        expect(commandNames).toContain(result.name);
        expect(incoming.payload.length).toBeLessThanOrEqual(maxCommandBytes);
        expect(commandSchema.safeParse(result.command).success).toBe(true);
        expect(Date.parse(result.command.expiresAt)).toBeGreaterThanOrEqual(nowMs);
      }),
      { numRuns: RUNS },
    );
  });
});
