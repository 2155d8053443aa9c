import { describe, expect, it } from 'vitest';
import { NoBrokerError, TerminalCommands, TerminalOfflineError } from '../../../broker/guard/terminalCommands.js';
import { commandSchema } from '../../../protocol/messages.js';
import { commandTopic } from '../../../protocol/topics.js';

const target = { checkpointCode: '10000000000008', terminalId: 'gate-1' };

describe('TerminalCommands', () => {
  it("sends a valid, short-lived command on the terminal's own command topic", async () => {
    const sent: { topic: string; payload: Buffer }[] = [];
    const commands = new TerminalCommands({ publish: async (topic, payload) => void sent.push({ topic, payload }), connected: () => true, now: () => Date.UTC(2026, 0, 1) });
    const result = await commands.send(target, 'confirm', { pendingId: '0190d6a4-7b7e-7c3a-8f00-000000000001', lane: 'in', by: 'user:guard-a', reason: undefined });
    expect(sent.map((s) => s.topic)).toEqual([commandTopic(target.checkpointCode, target.terminalId, 'confirm')]);
    const command = commandSchema.parse(JSON.parse(sent[0]!.payload.toString('utf8')));
    expect(command).toMatchObject({ id: result.id, pendingId: '0190d6a4-7b7e-7c3a-8f00-000000000001', lane: 'in', by: 'user:guard-a' });
    expect(Date.parse(command.expiresAt) - Date.parse(command.issuedAt)).toBe(30_000);
  });

  it('sends nothing to a terminal that is not connected, and says so', async () => {
    const sent: string[] = [];
    const commands = new TerminalCommands({ publish: async (topic) => void sent.push(topic), connected: () => false });
    await expect(commands.send(target, 'open', { by: 'user:guard-a' })).rejects.toBeInstanceOf(TerminalOfflineError);
    expect(sent).toEqual([]);
    await expect(new TerminalCommands({ publish: null }).send(target, 'open', {})).rejects.toBeInstanceOf(NoBrokerError);
  });
});
