import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { connect as mqttConnect, type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';
import { TerminalClock } from '../../../gateway/clock.js';
import { ListCache } from '../../../gateway/listCache.js';
import { Outbox, type EventDraft } from '../../../gateway/outbox.js';
import { openTerminalDb, type TerminalDb } from '../../../gateway/terminalDb.js';
import { uplinkConfigSchema } from '../../../gateway/uplink/config.js';
import type { UplinkLane } from '../../../gateway/uplink/lanes.js';
import { Uplink, type UplinkDeps } from '../../../gateway/uplink/uplink.js';
import type { ScanEvent } from '../../../protocol/event.js';
import type { Command, CommandName } from '../../../protocol/messages.js';
import { commandTopic, terminalTopic } from '../../../protocol/topics.js';

export const TERMINAL_ID = 'gate-1';
export const CHECKPOINT = '10000000000008';
export const eventsTopic = terminalTopic(CHECKPOINT, TERMINAL_ID, 'events');
export const statusTopic = terminalTopic(CHECKPOINT, TERMINAL_ID, 'status');
export const telemetryTopic = terminalTopic(CHECKPOINT, TERMINAL_ID, 'telemetry');

export const draft: EventDraft = {
  lane: 'in',
  direction: 'in',
  credentialType: 'cccd',
  credentialRef: 'ab'.repeat(32),
  listVersion: 1,
  decision: 'granted',
  reason: 'allowed',
  passback: false,
  passed: null,
  latencyMs: 0.5,
};

/** An aedes broker on loopback; `kill()` drops every connection the way a crash would. */
export class TestBroker {
  private readonly sockets = new Set<Socket>();
  /** Connected clients by id, to cut one abruptly. */
  readonly clients = new Map<string, Client>();

  private constructor(
    readonly aedes: Aedes,
    private readonly server: Server,
    readonly port: number,
  ) {
    aedes.on('client', (client) => this.clients.set(client.id, client));
    aedes.on('clientDisconnect', (client) => {
      if (this.clients.get(client.id) === client) this.clients.delete(client.id);
    });
  }

  static async start(options: AedesOptions & { port?: number } = {}): Promise<TestBroker> {
    const { port = 0, ...aedesOptions } = options;
    const aedes = await Aedes.createBroker(aedesOptions);
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('no address');
    const broker = new TestBroker(aedes, server, address.port);
    server.on('connection', (socket) => {
      broker.sockets.add(socket);
      socket.on('close', () => broker.sockets.delete(socket));
    });
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Every socket destroyed at once, no DISCONNECT, no PUBACK for what was pending. */
  async kill(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}

/** A holding pen for authorizePublish: events wait until released; everything else passes. */
export class PublishGate {
  private open = false;
  private readonly held: Array<() => void> = [];
  arrivals = 0;

  readonly authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (_client, packet, callback) => {
    if (!packet.topic.endsWith('/events')) return callback(null);
    this.arrivals++;
    if (this.open) return callback(null);
    this.held.push(() => callback(null));
  };

  get heldCount(): number {
    return this.held.length;
  }

  /** Lets everything held through, and everything after. */
  openUp(): void {
    this.open = true;
    for (const release of this.held.splice(0)) release();
  }
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/** A real mqtt.js subscriber that sees what the central would. */
export class Observer {
  readonly messages: Received[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
  }

  static async connect(url: string, filter = 'qrgate/v1/#'): Promise<Observer> {
    const client = mqttConnect(url, { clientId: `observer-${randomUUID()}`, reconnectPeriod: 0 });
    const observer = new Observer(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return observer;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Every event in every batch received, in arrival order. */
  events(): ScanEvent[] {
    return this.on(eventsTopic).flatMap((m) => (JSON.parse(m.payload) as { events: ScanEvent[] }).events);
  }

  async command(name: CommandName | string, body: Partial<Command> & { expiresInMs?: number } = {}, retain = false): Promise<Command> {
    const { expiresInMs = 60_000, ...rest } = body;
    const command: Command = {
      v: 1,
      id: randomUUID(),
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
      ...rest,
    };
    await this.client.publishAsync(commandTopic(CHECKPOINT, TERMINAL_ID, name), JSON.stringify(command), { qos: 1, retain });
    return command;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * What went over the terminal's own socket, from mqtt.js's packetsend/packetreceive:
 * which seqs each events PUBLISH carried and which of them were PUBACKed.
 */
export class Wire {
  private readonly pending = new Map<number, number[]>();
  readonly ackedSeqs = new Set<number>();
  /** Seqs sent in a PUBLISH whose PUBACK had not arrived when the connection closed. */
  readonly unackedAtClose = new Set<number>();
  maxUnacked = 0;
  clients: MqttClient[] = [];

  readonly connect = (url: string, options: IClientOptions): MqttClient => {
    const client = mqttConnect(url, options);
    this.clients.push(client);
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd !== 'publish' || packet.topic !== eventsTopic || packet.messageId === undefined) return;
      const batch = JSON.parse(packet.payload.toString()) as { events: ScanEvent[] };
      this.pending.set(packet.messageId, batch.events.map((e) => e.seq));
      this.maxUnacked = Math.max(this.maxUnacked, this.pending.size);
    });
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd !== 'puback' || packet.messageId === undefined) return;
      for (const seq of this.pending.get(packet.messageId) ?? []) this.ackedSeqs.add(seq);
      this.pending.delete(packet.messageId);
    });
    client.on('close', () => {
      for (const seqs of this.pending.values()) for (const seq of seqs) this.unackedAtClose.add(seq);
      this.pending.clear();
    });
    return client;
  };

  get unacked(): number {
    return this.pending.size;
  }
}

export interface UplinkRig {
  readonly db: TerminalDb;
  readonly outbox: Outbox;
  readonly clock: TerminalClock;
  readonly uplink: Uplink;
  readonly wire: Wire;
  depth(): number;
  record(n: number): ScanEvent[];
}

export interface RigOptions {
  readonly dataDir: string;
  readonly url: string;
  readonly logger: Logger;
  readonly central?: Record<string, unknown>;
  readonly lanes?: readonly UplinkLane[];
  readonly deps?: Partial<UplinkDeps>;
}

/** A terminal's outbox on a real SQLite file and an uplink over it; no lanes unless given. */
export function uplinkRig(options: RigOptions): UplinkRig {
  const db = openTerminalDb(options.dataDir);
  const clock = new TerminalClock(db);
  const bootId = randomUUID();
  const outbox = new Outbox(db, { terminalId: TERMINAL_ID, checkpointCode: CHECKPOINT, bootId }, clock);
  const wire = new Wire();
  const config = uplinkConfigSchema.parse({ url: options.url, username: TERMINAL_ID, password: 's3cret-password', ...options.central });
  const uplink = new Uplink({
    config,
    terminalId: TERMINAL_ID,
    checkpointCode: CHECKPOINT,
    bootId,
    outbox,
    clock,
    lists: new ListCache(options.dataDir),
    scopes: ['demo-site'],
    lanes: options.lanes ?? [],
    logger: options.logger,
    connect: wire.connect,
    clockSynced: () => null,
    ...options.deps,
  });
  return {
    db,
    outbox,
    clock,
    uplink,
    wire,
    depth: () => outbox.depth(),
    record: (n) => Array.from({ length: n }, () => outbox.record(draft)),
  };
}
