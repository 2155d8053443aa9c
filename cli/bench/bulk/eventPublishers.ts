import { randomBytes, randomUUID } from 'node:crypto';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { ScanEvent } from '../../../protocol/event.js';
import type { EventBatch } from '../../../protocol/messages.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';

export interface PublisherTerminal {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly secret: string;
}

export interface EventPublishersOptions {
  readonly url: string;
  readonly terminals: readonly PublisherTerminal[];
  /** Events per second over all terminals. */
  readonly eventsPerSec: number;
  /** Most events in one publish (the uplink's `batchSize`). */
  readonly batchSize: number;
  /** Publishes not yet acknowledged per terminal (the uplink's `maxInFlightBatches`). */
  readonly maxInFlight: number;
}

/** One acknowledged publish: when it was sent (performance clock, ms) and how long its PUBACK took. */
export interface AckSample {
  readonly sentAtMs: number;
  readonly ackMs: number;
}

/**
 * Terminals reduced to their uplink's wire behaviour: each logs in with its own secret, its
 * decisions come due at an even aggregate rate, and it publishes what is due as QoS 1
 * batches of valid scan events in sequence, at most `maxInFlight` unacknowledged, as the
 * uplink's window does (what waits stays "in the outbox" and goes in the next batch). The
 * time from publish to PUBACK is recorded per batch: with our central a PUBACK means
 * stored (DESIGN.md "A PUBACK is not a receipt"), so it is what a terminal waits on to
 * empty its outbox. Connections that drop are counted, not hidden.
 */
export class EventPublishers {
  readonly samples: AckSample[] = [];
  /** Publishes the broker refused or that failed (an error in the publish callback). */
  failed = 0;
  /** Connections lost after their first CONNACK. */
  dropped = 0;
  /** Events sent and acknowledged. */
  acked = 0;
  private readonly clients: MqttClient[] = [];
  private readonly seqs: number[] = [];
  /** Per terminal: decisions due and not yet published, and publishes not yet acknowledged. */
  private readonly due: number[] = [];
  private readonly inFlight: number[] = [];
  private readonly bootId = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly refs = Array.from({ length: 1024 }, () => randomBytes(32).toString('hex'));

  constructor(private readonly options: EventPublishersOptions) {}

  /** Logs every terminal in; resolves once all are connected. */
  async connect(): Promise<void> {
    await Promise.all(
      this.options.terminals.map(
        (terminal) =>
          new Promise<void>((resolve, reject) => {
            const client = mqttConnect(this.options.url, {
              clientId: terminal.terminalId,
              username: terminal.terminalId,
              password: terminal.secret,
              protocolVersion: 4,
              clean: true,
              reconnectPeriod: 1_000,
              connectTimeout: 30_000,
            });
            let connected = false;
            client.once('connect', () => {
              connected = true;
              resolve();
            });
            client.on('close', () => {
              if (connected && !this.stopping) this.dropped += 1;
            });
            client.once('error', (err) => {
              if (!connected) reject(err);
            });
            this.clients.push(client);
            this.seqs.push(0);
            this.due.push(0);
            this.inFlight.push(0);
          }),
      ),
    );
  }

  /** Decisions that came due; those still waiting in the "outboxes" at the end are in `waiting`. */
  decided = 0;

  get waiting(): number {
    return this.due.reduce((sum, n) => sum + n, 0);
  }

  /** Starts deciding at the configured rate, terminals in turn, and publishing what is due. */
  start(): void {
    const started = performance.now();
    let next = 0;
    this.timer = setInterval(() => {
      const dueNow = Math.floor(((performance.now() - started) / 1000) * this.options.eventsPerSec);
      for (; this.decided < dueNow; this.decided++) {
        this.due[next]! += 1;
        next = (next + 1) % this.clients.length;
      }
      for (let i = 0; i < this.clients.length; i++) {
        while (this.due[i]! > 0 && this.inFlight[i]! < this.options.maxInFlight && this.clients[i]!.connected) {
          const size = Math.min(this.due[i]!, this.options.batchSize);
          this.due[i]! -= size;
          this.publish(i, size);
        }
      }
    }, 5);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.clients.map((client) => client.endAsync()));
  }

  private publish(index: number, size: number): void {
    const client = this.clients[index]!;
    const terminal = this.options.terminals[index]!;
    const events: ScanEvent[] = [];
    const nowMs = Date.now();
    for (let i = 0; i < size; i++) {
      const seq = ++this.seqs[index]!;
      events.push({
        id: uuidv7(nowMs),
        terminalId: terminal.terminalId,
        checkpointCode: terminal.checkpointCode,
        lane: 'in',
        direction: 'in',
        seq,
        bootId: this.bootId,
        ts: new Date(nowMs).toISOString(),
        clockTrusted: true,
        credentialType: 'cccd',
        credentialRef: this.refs[seq % this.refs.length]!,
        listVersion: 1,
        decision: 'granted',
        reason: 'allowed',
        passback: false,
        passed: null,
        latencyMs: 0.4,
      });
    }
    const batch: EventBatch = { v: 1, events };
    const sentAtMs = performance.now();
    this.inFlight[index]! += 1;
    client.publish(terminalTopic(terminal.checkpointCode, terminal.terminalId, 'events'), JSON.stringify(batch), { qos: 1 }, (err) => {
      this.inFlight[index]! -= 1;
      if (err) {
        this.failed += 1;
        return;
      }
      this.acked += events.length;
      this.samples.push({ sentAtMs, ackMs: performance.now() - sentAtMs });
    });
  }
}
