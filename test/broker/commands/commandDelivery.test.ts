import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { CommandAcks } from '../../../broker/commands/commandAcks.js';
import { CommandDelivery, maxReadsPerTerminal } from '../../../broker/commands/commandDelivery.js';
import { TerminalCommands } from '../../../broker/guard/terminalCommands.js';
import { brokerPublish } from '../../../broker/mqtt/brokerPublish.js';
import { maxOpenCommands, type NewTerminalCommand } from '../../../broker/store/centralStore.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { commandSchema, type Command } from '../../../protocol/messages.js';
import { commandFilter, commandTopic, terminalTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { waitFor } from '../../helpers/waitFor.js';
import { useBroker, type BrokerHarness, type TestTerminal } from '../mqtt/brokerHarness.js';
import { commandAck } from '../mqtt/fixtures.js';

/**
 * The command queue on one node over a real broker and real sockets (issue 15 point 6): a
 * command queued in the store goes to its terminal once the terminal subscribes, is sent
 * again (same id, same expiry) after the resend interval and on every new connection until
 * the terminal's ack is recorded, and never once it has expired. The clock is injected and
 * passes are run by hand, so nothing here waits on a timer.
 */
describe('CommandDelivery: the store is the queue, the terminal ack closes a command', () => {
  const startBroker = useBroker();
  const t0 = Date.parse('2026-12-03T08:00:00Z');

  async function setUp() {
    let harness: BrokerHarness | null = null;
    const log = captureLogger('debug');
    const ready: string[] = [];
    const h = await startBroker({
      commands: {
        commandAcks: new CommandAcks({ store: { acknowledgeCommand: (...args) => harness!.store.acknowledgeCommand(...args) }, logger: log.logger, now: () => clock.ms }),
        onCommandSubscriber: (terminalId) => ready.push(terminalId),
      },
    });
    harness = h;
    const clock = { ms: t0 };
    const aedes = h.broker.broker!;
    const delivery = new CommandDelivery({
      store: h.store,
      commands: new TerminalCommands({ publish: (topic, payload) => brokerPublish(aedes, topic, payload, { retain: false }) }),
      subscriber: (terminalId) => h.broker.commandSubscriber(terminalId),
      logger: log.logger,
      resendAfterMs: 5_000,
      now: () => clock.ms,
    });
    const terminal = await h.addTerminal();
    const queue = async (more: Partial<NewTerminalCommand> = {}): Promise<NewTerminalCommand> => {
      const command: NewTerminalCommand = {
        id: randomUUID(),
        terminalId: terminal.terminalId,
        checkpointCode: terminal.checkpointCode,
        name: 'open',
        fields: { lane: 'in', by: 'cli:root', reason: 'xe cứu thương' },
        issuedAtMs: t0,
        expiresAtMs: t0 + 30_000,
        issuedBy: 'cli:root',
        ...more,
      };
      await h.store.queueCommand(command);
      return command;
    };
    return { h, log, delivery, terminal, queue, clock, ready };
  }

  /** A terminal's connection, subscribed to its commands, with what it received. */
  async function subscribed(h: BrokerHarness, terminal: TestTerminal): Promise<{ client: MqttClient; received: Array<{ topic: string; command: Command }> }> {
    const client = await h.connectTerminal(terminal);
    const received: Array<{ topic: string; command: Command }> = [];
    client.on('message', (topic, payload) => received.push({ topic, command: commandSchema.parse(JSON.parse(payload.toString())) }));
    await client.subscribeAsync(commandFilter(terminal.checkpointCode, terminal.terminalId), { qos: 1 });
    await waitFor(() => h.broker.commandSubscriber(terminal.terminalId) !== null, 10_000, 'the subscription noticed');
    return { client, received };
  }

  it('holds a command until its terminal subscribes, then delivers it with the queued id and expiry; the ack closes it', async () => {
    const { h, delivery, terminal, queue, ready } = await setUp();
    const queued = await queue();
    await delivery.poll();
    expect((await h.store.getCommand(queued.id))?.attempts).toBe(0); // nobody to send it to

    const { client, received } = await subscribed(h, terminal);
    expect(ready).toEqual([terminal.terminalId]);
    await delivery.poll();
    await waitFor(() => received.length === 1, 10_000, 'the command at the terminal');
    expect(received[0]).toEqual({
      topic: commandTopic(terminal.checkpointCode, terminal.terminalId, 'open'),
      command: { v: 1, id: queued.id, issuedAt: new Date(t0).toISOString(), expiresAt: new Date(t0 + 30_000).toISOString(), lane: 'in', by: 'cli:root', reason: 'xe cứu thương' },
    });
    expect(await h.store.getCommand(queued.id)).toMatchObject({ attempts: 1, lastSentAt: new Date(t0).toISOString(), ack: null });

    const eventId = randomUUID();
    await client.publishAsync(terminalTopic(terminal.checkpointCode, terminal.terminalId, 'cmd-acks'), commandAck({ id: queued.id, eventId }), { qos: 1 });
    expect((await h.store.getCommand(queued.id))?.ack).toMatchObject({ outcome: 'executed', eventId });
    await delivery.poll();
    expect(received).toHaveLength(1);
  });

  it("sends an older command to a terminal as soon as it subscribes, without waiting for the next full read", async () => {
    const { h, delivery, terminal, queue, clock } = await setUp();
    const old = await queue({ issuedAtMs: t0 - 120_000, expiresAtMs: t0 + 60_000, name: 'sync-lists', fields: {} });
    await delivery.poll(); // the full read: nobody subscribed
    clock.ms += 1_000;
    const { received } = await subscribed(h, terminal);
    await delivery.poll(); // a recent-only read: two minutes old is not recent
    expect(received).toEqual([]);
    delivery.terminalReady(terminal.terminalId);
    await delivery.poll();
    await waitFor(() => received.length === 1, 10_000, 'the old command on subscribe');
    expect(received[0]?.command.id).toBe(old.id);
  });

  /** A delivery over the harness's store that records the filter of every queue read it makes. */
  function deliveryCountingReads(h: Awaited<ReturnType<typeof setUp>>['h'], log: Awaited<ReturnType<typeof setUp>>['log'], clock: { ms: number }) {
    const reads: unknown[] = [];
    const delivery = new CommandDelivery({
      store: { openCommands: (...args) => (reads.push(args[1]), h.store.openCommands(...args)), commandSent: (...args) => h.store.commandSent(...args) },
      commands: new TerminalCommands({ publish: (topic, payload) => brokerPublish(h.broker.broker!, topic, payload, { retain: false }) }),
      subscriber: (terminalId) => h.broker.commandSubscriber(terminalId),
      logger: log.logger,
      resendAfterMs: 5_000,
      now: () => clock.ms,
    });
    return { reads, delivery };
  }

  it(`serves more than ${maxReadsPerTerminal} terminals subscribing at once (a restart's fleet) with one read of the queue, not one each`, async () => {
    const { h, log, terminal, queue, clock } = await setUp();
    const { reads, delivery } = deliveryCountingReads(h, log, clock);
    await delivery.poll(); // the first full read, before anyone is connected
    clock.ms += 1_000; // the next scheduled full read is 4 s away
    const fleet = [terminal, ...(await Promise.all(Array.from({ length: maxReadsPerTerminal + 3 }, () => h.addTerminal(terminal.checkpointCode))))];
    const queued = new Map<string, string>();
    for (const each of fleet) queued.set(each.terminalId, (await queue({ terminalId: each.terminalId, issuedAtMs: t0 - 120_000, name: 'ping', fields: {} })).id);
    const inboxes = await Promise.all(fleet.map((each) => subscribed(h, each)));
    reads.length = 0;
    for (const each of fleet) delivery.terminalReady(each.terminalId);
    await delivery.poll();
    await waitFor(() => inboxes.every((inbox) => inbox.received.length === 1), 10_000, 'every terminal its command');
    expect(fleet.map((each, i) => inboxes[i]!.received[0]!.command.id)).toEqual(fleet.map((each) => queued.get(each.terminalId)));
    // The first to subscribe starts a pass at once (its own read, then the recent one); the
    // rest, arriving meanwhile, are served by one read of every open command, not one each.
    expect(reads).toEqual([{ terminalId: terminal.terminalId }, { issuedSinceMs: clock.ms - 60_000 }, {}]);
  });

  it('reads the queue per terminal when a few subscribe', async () => {
    const { h, log, terminal, queue, clock } = await setUp();
    const { reads, delivery } = deliveryCountingReads(h, log, clock);
    await delivery.poll();
    clock.ms += 1_000;
    const old = await queue({ issuedAtMs: t0 - 120_000, name: 'ping', fields: {} });
    const { received } = await subscribed(h, terminal);
    reads.length = 0;
    delivery.terminalReady(terminal.terminalId);
    await delivery.poll();
    await waitFor(() => received.length === 1, 10_000, 'the command');
    expect(received[0]!.command.id).toBe(old.id);
    expect(reads).toEqual([{ terminalId: terminal.terminalId }, { issuedSinceMs: clock.ms - 60_000 }]);
  });

  it('sends an unacknowledged command again after the resend interval and on a new connection, never after its expiry', async () => {
    const { h, delivery, terminal, queue, clock, log } = await setUp();
    const queued = await queue();
    const first = await subscribed(h, terminal);
    await delivery.poll();
    clock.ms += 4_999;
    await delivery.poll(); // too soon for a copy on the same connection
    await waitFor(() => first.received.length === 1, 10_000, 'the first copy');
    clock.ms += 1;
    await delivery.poll();
    await waitFor(() => first.received.length === 2, 10_000, 'a copy after the resend interval');

    // The terminal reconnects (a new connection): the command goes out on it at once.
    await first.client.endAsync(true);
    await waitFor(() => h.broker.commandSubscriber(terminal.terminalId) === null, 10_000, 'the old connection forgotten');
    const second = await subscribed(h, terminal);
    clock.ms += 1_000;
    await delivery.poll();
    await waitFor(() => second.received.length === 1, 10_000, 'a copy on the new connection');
    expect([...first.received, ...second.received].map((r) => r.command.id)).toEqual([queued.id, queued.id, queued.id]);
    expect(new Set([...first.received, ...second.received].map((r) => r.command.expiresAt)).size).toBe(1);
    expect(log.messages('command.sent').map((l) => [l.attempt, l.resend])).toEqual([[1, false], [2, true], [3, true]]);

    clock.ms = t0 + 30_000;
    await delivery.poll();
    expect((await h.store.getCommand(queued.id))?.attempts).toBe(3);
    expect(second.received).toHaveLength(1);
  });

  it('never sends a command that expired before its terminal came, and sends only to the terminal it is for', async () => {
    const { h, delivery, terminal, queue, clock } = await setUp();
    const stale = await queue({ issuedAtMs: t0 - 60_000, expiresAtMs: t0 - 1 });
    const other = await h.addTerminal(terminal.checkpointCode);
    const forOther = await queue({ terminalId: other.terminalId, name: 'ping', fields: {} });
    const { received } = await subscribed(h, terminal);
    const theOther = await subscribed(h, other);
    await delivery.poll();
    await waitFor(() => theOther.received.length === 1, 10_000, "the other terminal's ping");
    expect(theOther.received[0]?.command.id).toBe(forOther.id);
    clock.ms += 10_000;
    await delivery.poll();
    expect(received).toEqual([]);
    expect((await h.store.getCommand(stale.id))?.attempts).toBe(0);
  });

  it(`delivers a connected terminal's command behind more than ${maxOpenCommands} waiting for an offline one`, async () => {
    const { h, delivery, terminal, queue } = await setUp();
    const offline = await h.addTerminal(terminal.checkpointCode);
    for (let i = 0; i < maxOpenCommands + 1; i++) await queue({ id: uuidv7(t0 - 60_000 + i), terminalId: offline.terminalId, name: 'ping', fields: {} });
    const mine = await queue({ id: uuidv7(t0), name: 'ping', fields: {} });
    const { received } = await subscribed(h, terminal);
    await delivery.poll();
    await waitFor(() => received.length === 1, 10_000, 'the command after the offline terminal\'s');
    expect(received[0]?.command.id).toBe(mine.id);
  });

  it('counts a malformed ack and records nothing; an ack from another terminal does not close the command', async () => {
    const { h, delivery, terminal, queue, log } = await setUp();
    const queued = await queue();
    const { client } = await subscribed(h, terminal);
    await delivery.poll();
    const acks = terminalTopic(terminal.checkpointCode, terminal.terminalId, 'cmd-acks');
    await client.publishAsync(acks, '{"v":1,"id":"nope"}', { qos: 1 });
    expect(log.messages('ingest.malformed')).toEqual([expect.objectContaining({ terminalId: terminal.terminalId, kind: 'cmd-acks' })]);
    const other = await h.addTerminal(terminal.checkpointCode);
    const otherClient = await h.connectTerminal(other);
    await otherClient.publishAsync(terminalTopic(other.checkpointCode, other.terminalId, 'cmd-acks'), commandAck({ id: queued.id }), { qos: 1 });
    expect((await h.store.getCommand(queued.id))?.ack).toBeNull();
    expect(client.connected).toBe(true);
  });
});
