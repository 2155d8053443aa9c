import type { Logger } from '../protocol/logger.js';
import type { CliContext } from './command.js';
import { openServiceNotifier } from './systemdNotify.js';

export interface Service {
  start(): Promise<unknown>;
  /** Safe to call twice, and after a failed start. */
  stop(): Promise<void>;
  /** Rejects when the service fails after start (a terminal that enrolled and then cannot run). */
  readonly failed?: Promise<never>;
}

/**
 * Runs a long-lived service (`terminal`, `central`, `ingest`) until SIGTERM or SIGINT, then
 * stops it. A failed start is logged as `{name}.failed`, told on stderr, and exits 1 after
 * the service has been stopped (for a terminal: relays off).
 */
export async function runUntilSignal(name: string, service: Service, logger: Logger, ctx: CliContext): Promise<number> {
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
  // Under systemd (deploy/systemd/): READY=1 after start, watchdog pings, STOPPING=1.
  const notifier = openServiceNotifier(process.env, logger);
  try {
    try {
      await service.start();
    } catch (err) {
      logger.fatal({ err }, `${name}.failed`);
      await service.stop();
      ctx.stderr.write(`qrgate ${name}: ${(err as Error).message}\n`);
      return 1;
    }
    notifier?.ready();
    // Signal listeners do not keep Node's event loop alive: a terminal with simulated lanes
    // and no central holds no other handle, and would exit (code 13) right after starting.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let signal: string;
    try {
      signal = await (service.failed ? Promise.race([stopped, service.failed]) : stopped).finally(() => clearInterval(keepAlive));
    } catch (err) {
      logger.fatal({ err }, `${name}.failed`);
      await service.stop();
      ctx.stderr.write(`qrgate ${name}: ${(err as Error).message}\n`);
      return 1;
    }
    notifier?.stopping();
    logger.info({ signal }, `${name}.stopping`);
    await service.stop();
    return 0;
  } finally {
    notifier?.close();
  }
}
