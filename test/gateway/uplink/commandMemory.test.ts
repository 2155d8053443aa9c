import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { TerminalClock } from '../../../gateway/clock.js';
import { openTerminalDb } from '../../../gateway/terminalDb.js';
import { CommandHandler } from '../../../gateway/uplink/commandHandler.js';
import { InMemoryCommandMemory, rememberedCommands, SqliteCommandMemory, type CommandMemory } from '../../../gateway/uplink/commandMemory.js';
import type { CommandAck } from '../../../protocol/messages.js';
import { commandTopic } from '../../../protocol/topics.js';
import { useTempDir } from '../../helpers/tempDir.js';

/**
 * What keeps a command sent again from running twice (issue 15 point 6): the ids run, with
 * the ack each earned. In terminal.db it outlives the process, so a terminal killed after
 * opening the gate and before its ack left does not open it again for the copy it gets
 * after its restart.
 */
describe('CommandMemory', () => {
  const tempDir = useTempDir('qrgate-command-memory-');
  const ack = (id: string): CommandAck => ({ v: 1, id, name: 'open', outcome: 'executed', at: '2026-12-03T08:00:00.000Z', eventId: randomUUID() });

  const kinds: ReadonlyArray<readonly [string, () => CommandMemory]> = [
    ['in memory', () => new InMemoryCommandMemory()],
    ['in terminal.db', () => new SqliteCommandMemory(openTerminalDb(tempDir()))],
  ];

  it.each(kinds)('%s: new, then claimed and unanswered, then answered; the oldest forgotten past %#', (_, make) => {
    const memory = make();
    const id = randomUUID();
    expect(memory.recall(id)).toBeNull();
    memory.claim(id);
    expect(memory.recall(id)).toBe('unanswered');
    const answered = ack(id);
    memory.answer(answered);
    expect(memory.recall(id)).toEqual(answered);
    memory.answer(ack(randomUUID())); // never claimed: nothing to answer
    for (let i = 0; i < rememberedCommands; i++) memory.claim(randomUUID());
    expect(memory.recall(id)).toBeNull();
  });

  it('in terminal.db, survives the process: a copy after a restart is answered with the first outcome and not run', () => {
    const dir = tempDir();
    const id = randomUUID();
    const eventId = randomUUID();
    const opened: string[] = [];
    const acks: CommandAck[] = [];
    const handler = (db: ReturnType<typeof openTerminalDb>) =>
      new CommandHandler({
        checkpointCode: '10000000000008',
        terminalId: 'gate-1',
        clock: new TerminalClock(db),
        lanes: [{ name: 'in', scannerConnected: () => true, remoteOpen: () => (opened.push(id), { id: eventId } as never), answerPending: () => null }],
        publishTelemetry: () => true,
        syncLists: () => undefined,
        publishAck: (a) => acks.push(a),
        memory: new SqliteCommandMemory(db),
        logger: pino({ level: 'silent' }),
      });
    const message = {
      topic: commandTopic('10000000000008', 'gate-1', 'open'),
      payload: Buffer.from(JSON.stringify({ v: 1, id, issuedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() })),
      retain: false,
    };
    const first = openTerminalDb(dir);
    handler(first).handle(message);
    first.close();
    const second = openTerminalDb(dir);
    handler(second).handle(message);
    second.close();
    expect(opened).toEqual([id]);
    expect(acks).toHaveLength(2);
    expect(acks[1]).toEqual(acks[0]);
    expect(acks[0]).toMatchObject({ id, outcome: 'executed', eventId });

    // Claimed and never answered (killed mid-run): a copy is refused, not run.
    const cut = openTerminalDb(dir);
    const unfinished = randomUUID();
    new SqliteCommandMemory(cut).claim(unfinished);
    handler(cut).handle({ ...message, payload: Buffer.from(message.payload.toString().replace(id, unfinished)) });
    cut.close();
    expect(opened).toEqual([id]);
    expect(acks[2]).toMatchObject({ id: unfinished, outcome: 'ignored', reason: 'duplicate' });
  });
});
