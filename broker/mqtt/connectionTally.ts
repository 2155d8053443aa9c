import type { Logger } from '../../protocol/logger.js';

export interface ConnectionTallyOptions {
  /** How often the summary line may be written, ms. Default 10 s. */
  readonly everyMs?: number;
  /** Clients connected now, for the line. */
  readonly connected: () => number;
}

const defaultEveryMs = 10_000;

/**
 * One info line, `mqtt.connections {connected, logins, disconnects, connectionErrors, periodMs}`, per period
 * in which clients came or went, instead of one line per client. Per-client lines are debug
 * (createMqttBroker.ts), and so is a connection's error before its CONNECT completed (a
 * client that gave up on a busy central: 242 lines in one 10,000-terminal restart): after a central restart ten thousand terminals log in within
 * seconds, and a synchronous log line each was ~6 % of the restarted central's busy time
 * (docs/benchmarks.md, "Reconnect storm"), besides flooding journald. A quiet period writes
 * nothing.
 */
export class ConnectionTally {
  private logins = 0;
  private disconnects = 0;
  private connectionErrors = 0;
  private periodStartMs = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    private readonly options: ConnectionTallyOptions,
  ) {
    this.timer = setInterval(() => this.flush(), options.everyMs ?? defaultEveryMs);
    this.timer.unref();
  }

  login(): void {
    this.logins++;
  }

  disconnect(): void {
    this.disconnects++;
  }

  connectionError(): void {
    this.connectionErrors++;
  }

  /** Writes the line for the period so far (if anything happened) and starts a new one. */
  flush(): void {
    const nowMs = performance.now();
    if (this.logins + this.disconnects + this.connectionErrors > 0) {
      this.logger.info(
        { connected: this.options.connected(), logins: this.logins, disconnects: this.disconnects, connectionErrors: this.connectionErrors, periodMs: Math.round(nowMs - this.periodStartMs) },
        'mqtt.connections',
      );
    }
    this.logins = 0;
    this.disconnects = 0;
    this.connectionErrors = 0;
    this.periodStartMs = nowMs;
  }

  /** The last period's line, then no more. */
  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
