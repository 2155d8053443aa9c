import { afterEach, describe, expect, it } from 'vitest';
import { PendingBoard } from '../../../gateway/pendingBoard.js';
import type { UplinkLane } from '../../../gateway/uplink/lanes.js';
import { commandAckSchema, pendingMessageSchema, type PendingHeld } from '../../../protocol/messages.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { statusSchema, telemetrySchema } from '../../../protocol/messages.js';
import { commandTopic, terminalTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { CHECKPOINT, Observer, TERMINAL_ID, TestBroker, statusTopic, telemetryTopic, uplinkRig } from './rig.js';

const acksTopic = terminalTopic(CHECKPOINT, TERMINAL_ID, 'cmd-acks');

describe('Uplink commands, status and telemetry', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(options: { central?: Record<string, unknown>; beforeTerminal?: (observer: Observer) => Promise<void>; pendingBoard?: PendingBoard } = {}) {
    // Status publishes as the broker authorises them: the will goes through here too,
    // synchronously before aedes unregisters the client.
    const statusAuthorized: string[] = [];
    const broker = await TestBroker.start({
      authorizePublish: (_client, packet, callback) => {
        if (packet.topic === statusTopic) statusAuthorized.push(JSON.parse(packet.payload.toString()).state);
        callback(null);
      },
    });
    cleanups.push(() => broker.kill());
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => observer.close());
    await options.beforeTerminal?.(observer);
    const opened: string[] = [];
    const lane = (name: string): UplinkLane => ({
      name,
      scannerConnected: () => name === 'in',
      remoteOpen: () => {
        opened.push(name);
        return r.outbox.record({ ...draftFor(name), credentialType: 'none', credentialRef: null, reason: 'remote-open' });
      },
      answerPending: (id, decision, by) => {
        if (!pendingHere.delete(id)) return null;
        answered.push({ lane: name, id, decision, by });
        return r.outbox.record({ ...draftFor(name), decision, reason: decision === 'granted' ? 'confirmed' : 'rejected', ...(by ? { answeredBy: by } : {}) }, { id });
      },
    });
    const pendingHere = new Set(options.pendingBoard?.current().map((m) => m.id));
    const answered: { lane: string; id: string; decision: string; by: string | undefined }[] = [];
    const log = captureLogger();
    const r = uplinkRig({
      dataDir: tempDir(),
      url: broker.url,
      logger: log.logger,
      central: { reconnectMinMs: 50, reconnectMaxMs: 200, ...options.central },
      lanes: [lane('in'), lane('out')],
      deps: { clockSynced: () => true, uptimeS: () => 12.5, ...(options.pendingBoard ? { pendingBoard: options.pendingBoard } : {}) },
    });
    cleanups.push(() => r.db.close());
    cleanups.push(() => r.uplink.stop());
    r.uplink.start();
    await waitFor(() => log.messages('uplink.connected').length === 1, 10_000, 'connected');
    await waitFor(() => broker.aedes.connectedClients === 2, 10_000, 'terminal at the broker');
    // live delivery comes after aedes stored the retained copy (storeRetained runs first)
    await waitFor(() => observer.on(statusTopic).some((m) => m.payload.includes('"online"')), 10_000, 'online status stored');
    return { broker, observer, r, log, opened, statusAuthorized, answered, pendingHere };
  }

  const draftFor = (lane: string) => ({
    lane,
    direction: 'in' as const,
    credentialType: 'none' as const,
    credentialRef: null,
    listVersion: null,
    decision: 'granted' as const,
    reason: 'remote-open' as const,
    passback: false,
    passed: null,
    latencyMs: null,
  });

  /** Sends a ping and waits for its telemetry: after it, every earlier command was handled. */
  async function barrier(observer: Observer): Promise<void> {
    const before = observer.on(telemetryTopic).length;
    await observer.command('ping');
    await waitFor(() => observer.on(telemetryTopic).length > before, 10_000, 'telemetry after ping');
  }

  it('tells the central what is pending on connect and as it comes; resolves a pending scan by confirm once, ignoring a second or unknown answer', async () => {
    const board = new PendingBoard();
    const held = (id: string): PendingHeld => ({
      v: 1, state: 'pending', id, lane: 'in', direction: 'in', at: new Date().toISOString(), expiresAt: new Date(Date.now() + 15_000).toISOString(),
      credentialType: 'cccd', credentialRef: 'ab'.repeat(32), listVersion: 1,
    });
    const before = uuidv7();
    board.hold(held(before)); // held while offline: sent on connect
    const { observer, log, answered, pendingHere } = await setUp({ pendingBoard: board });
    const pendingTopic = terminalTopic(CHECKPOINT, TERMINAL_ID, 'pending');
    await waitFor(() => observer.on(pendingTopic).length === 1, 10_000, 'the pending scan held before connecting');
    const live = uuidv7();
    pendingHere.add(live);
    board.hold(held(live));
    await waitFor(() => observer.on(pendingTopic).length === 2, 10_000, 'a pending scan as it happens');
    const told = observer.on(pendingTopic).map((m) => pendingMessageSchema.parse(JSON.parse(m.payload)));
    expect(told.map((m) => m.id)).toEqual([before, live]);
    expect(observer.on(pendingTopic).every((m) => !m.retain)).toBe(true);

    const confirm = await observer.command('confirm', { pendingId: live, lane: 'in', by: 'user:guard-a' });
    const second = await observer.command('confirm', { pendingId: live, by: 'user:guard-b' });
    await observer.command('reject', { pendingId: uuidv7(), by: 'user:guard-b' });
    await observer.command('confirm', { by: 'user:guard-b' });
    await barrier(observer);
    expect(answered).toEqual([{ lane: 'in', id: live, decision: 'granted', by: 'user:guard-a' }]);
    expect(log.messages('command.executed')).toContainEqual(expect.objectContaining({ name: 'confirm', id: confirm.id, pendingId: live, eventId: live }));
    expect(log.messages('command.ignored').map((l) => [l.reason, l.name, l.id === second.id])).toEqual([
      ['not-pending', 'confirm', true],
      ['not-pending', 'reject', false],
      ['malformed', 'confirm', false],
    ]);
  });

  it('publishes a retained online status on connect and a valid telemetry heartbeat on ping', async () => {
    const { broker, observer, r, log } = await setUp();
    const late = await Observer.connect(broker.url, statusTopic);
    cleanups.push(() => late.close());
    await waitFor(() => late.messages.length > 0, 10_000, 'retained status');
    expect(late.messages[0]!.retain).toBe(true);
    expect(statusSchema.parse(JSON.parse(late.messages[0]!.payload))).toMatchObject({ state: 'online' });

    r.record(3);
    const ping = await observer.command('ping');
    await waitFor(() => observer.on(telemetryTopic).length >= 2, 10_000, 'telemetry on connect and after ping');
    const telemetry = telemetrySchema.parse(JSON.parse(observer.on(telemetryTopic).at(-1)!.payload));
    expect(telemetry).toMatchObject({
      uptimeS: 12.5,
      clockSynced: true,
      clockTrusted: true,
      lists: [{ scope: 'demo-site', version: null, ageS: null, expiresAt: null, stale: false }],
      scanners: [
        { lane: 'in', connected: true },
        { lane: 'out', connected: false },
      ],
    });
    expect(observer.on(telemetryTopic).every((m) => !m.retain)).toBe(true);
    expect(log.messages('command.executed')).toEqual([expect.objectContaining({ name: 'ping', id: ping.id })]);
  });

  it('ignores a retained command, an expired one, a malformed one and an unknown one, and keeps working', async () => {
    const { observer, r, log, opened } = await setUp({
      // stored on the broker before the terminal subscribes: delivered with RETAIN set
      beforeTerminal: (observer) => observer.command('open', {}, true).then(() => undefined),
    });
    await waitFor(() => log.messages('command.ignored').length === 1, 10_000, 'retained command refused');
    expect(log.messages('command.ignored')[0]).toMatchObject({ reason: 'retained', name: 'open' });

    const expired = await observer.command('open', { expiresInMs: -1000 });
    await observer.client.publishAsync(commandTopic(CHECKPOINT, TERMINAL_ID, 'open'), '{"v":1,"id":"not-a-uuid"', { qos: 1 });
    await observer.client.publishAsync(commandTopic(CHECKPOINT, TERMINAL_ID, 'open'), Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 });
    await observer.command('self-destruct');
    await observer.command('open', { lane: 'side-door' });
    await barrier(observer);

    expect(log.messages('command.ignored').map((l) => [l.reason, l.name])).toEqual([
      ['retained', 'open'],
      ['expired', 'open'],
      ['malformed', 'open'],
      ['malformed', 'open'],
      ['unknown-command', 'self-destruct'],
      ['unknown-lane', 'open'],
    ]);
    expect(log.messages('command.ignored')[1]).toMatchObject({ id: expired.id });
    expect(opened).toEqual([]);
    expect(r.depth()).toBe(0);

    // still alive: a valid open runs, is recorded, and its event goes out
    const open = await observer.command('open', { lane: 'out' });
    await waitFor(() => observer.events().length === 1, 10_000, 'remote-open event delivered');
    expect(opened).toEqual(['out']);
    expect(observer.events()[0]).toMatchObject({ lane: 'out', reason: 'remote-open', credentialType: 'none', credentialRef: null });
    expect(log.messages('command.executed').at(-1)).toMatchObject({ name: 'open', id: open.id, lane: 'out' });
    expect(log.messages('uplink.disconnected')).toEqual([]);
  });

  it('runs a command redelivered with the same id only once, and answers each copy with the outcome of its run', async () => {
    const { observer, log, opened } = await setUp();
    const first = await observer.command('open');
    await observer.command('open', { id: first.id, issuedAt: first.issuedAt, expiresAt: first.expiresAt });
    await barrier(observer);
    expect(opened).toEqual(['in']);
    expect(log.messages('command.ignored')).toEqual([expect.objectContaining({ reason: 'duplicate', id: first.id })]);
    const acks = await waitFor(() => {
      const received = observer.on(acksTopic).map((m) => commandAckSchema.parse(JSON.parse(m.payload)));
      return received.filter((a) => a.id === first.id).length === 2 ? received : undefined;
    }, 10_000, 'an ack for each copy');
    const eventId = await waitFor(() => observer.events()[0]?.id, 10_000, 'the remote-open event');
    expect(acks.filter((a) => a.id === first.id)).toEqual([
      { v: 1, id: first.id, name: 'open', outcome: 'executed', at: expect.any(String), eventId },
      { v: 1, id: first.id, name: 'open', outcome: 'executed', at: expect.any(String), eventId },
    ]);
    expect(observer.on(acksTopic).every((m) => !m.retain)).toBe(true);
  });

  it('acknowledges every command that carried an id: executed, or ignored with the reason', async () => {
    const { observer } = await setUp();
    const ping = await observer.command('ping');
    const expired = await observer.command('open', { expiresInMs: -1000 });
    const sideDoor = await observer.command('open', { lane: 'side-door' });
    const notPending = await observer.command('reject', { pendingId: uuidv7() });
    const sync = await observer.command('sync-lists');
    await observer.command('self-destruct'); // no command of ours: nothing to answer
    const ids = [ping.id, expired.id, sideDoor.id, notPending.id, sync.id];
    const acks = await waitFor(() => {
      const received = observer.on(acksTopic).map((m) => commandAckSchema.parse(JSON.parse(m.payload)));
      return received.length >= ids.length ? received : undefined;
    }, 10_000, 'five acks');
    expect(acks.map((a) => [a.id, a.name, a.outcome, a.outcome === 'ignored' ? a.reason : null])).toEqual([
      [ping.id, 'ping', 'executed', null],
      [expired.id, 'open', 'ignored', 'expired'],
      [sideDoor.id, 'open', 'ignored', 'unknown-lane'],
      [notPending.id, 'reject', 'ignored', 'not-pending'],
      [sync.id, 'sync-lists', 'executed', null],
    ]);
  });

  it('leaves a retained offline will when the connection is cut, and a clean offline status on stop', async () => {
    const { broker, observer, r, statusAuthorized } = await setUp({ central: { reconnectMinMs: 60_000, reconnectMaxMs: 60_000 } });
    const published: Array<{ payload: string; retain: boolean }> = [];
    broker.aedes.on('publish', (packet) => {
      if (packet.topic === statusTopic) published.push({ payload: packet.payload.toString(), retain: packet.retain });
    });
    const terminalClient = broker.clients.get(TERMINAL_ID);
    expect(terminalClient).toBeDefined();
    terminalClient!.conn.destroy(); // abrupt: no DISCONNECT, so the broker sends the will

    await waitFor(() => published.some((p) => p.payload.includes('"offline"')), 10_000, 'will published');
    const will = published.find((p) => p.payload.includes('"offline"'))!;
    expect(will.retain).toBe(true);
    const status = statusSchema.parse(JSON.parse(will.payload));
    expect(status.state).toBe('offline');
    const late = await Observer.connect(broker.url, statusTopic);
    cleanups.push(() => late.close());
    await waitFor(() => late.messages.length > 0, 10_000, 'retained status after the cut');
    expect(JSON.parse(late.messages[0]!.payload)).toMatchObject({ state: 'offline', bootId: status.bootId });
    expect(observer.on(statusTopic).map((m) => JSON.parse(m.payload).state)).toContain('offline');
    expect(statusAuthorized).toEqual(['online', 'offline']);
    // the uplink waits out its backoff (60 s here); stop() clears that timer
    await r.uplink.stop();
    await r.uplink.stop();
  });

  it('on stop publishes a retained offline status, then disconnects cleanly', async () => {
    const { broker, r, statusAuthorized } = await setUp();
    const published: Array<{ state: string; retain: boolean }> = [];
    broker.aedes.on('publish', (packet) => {
      if (packet.topic === statusTopic) published.push({ state: JSON.parse(packet.payload.toString()).state, retain: packet.retain });
    });
    await Promise.all([r.uplink.stop(), r.uplink.stop()]);
    // aedes acknowledges before it stores: wait for the publish itself
    await waitFor(() => published.length > 0, 10_000, 'offline status published');
    expect(published[0]).toEqual({ state: 'offline', retain: true });
    await waitFor(() => broker.aedes.connectedClients === 1, 10_000, 'terminal gone from the broker');
    // DISCONNECT was sent, so the broker discarded the will: ours is the only offline status.
    expect(statusAuthorized).toEqual(['online', 'offline']);
    const late = await Observer.connect(broker.url, statusTopic);
    cleanups.push(() => late.close());
    await waitFor(() => late.messages.length > 0, 10_000, 'retained status');
    expect(JSON.parse(late.messages[0]!.payload)).toMatchObject({ state: 'offline' });
    expect(r.uplink.connected).toBe(false);
  });
});

