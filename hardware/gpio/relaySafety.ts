import type { Logger } from 'pino';
import type { DigitalOutput } from './gpio.js';

export interface RelaySafetyOptions {
  /** How a crash ends the process; default `process.exit`. */
  readonly exit?: (code: number) => void;
}

/**
 * De-energises `outputs` (the relays) on every exit path this process can see
 * (DESIGN.md "Fail-safe"): on `exit`, and on an uncaught exception or unhandled rejection,
 * which are logged (`err`), followed by the relays forced off and exit code 1. Writes are
 * synchronous because nothing asynchronous runs in an `exit` handler. SIGTERM/SIGINT are
 * the terminal's to handle (they stop it properly); SIGKILL and power loss are covered by
 * the relay's own wiring (normally open) and by switching it off at start.
 *
 * Returns the function that removes the handlers again.
 */
export function installRelaySafety(outputs: readonly DigitalOutput[], logger: Logger, options: RelaySafetyOptions = {}): () => void {
  const forceOff = (): void => {
    for (const output of outputs) {
      try {
        output.write(0);
      } catch {
        // closed lines were driven to 0 when they closed; a failing line cannot be helped here
      }
    }
  };
  const crash = (kind: string, err: unknown): void => {
    try {
      logger.fatal({ err }, kind);
    } catch {
      // the logger must not stop the relay from switching off
    }
    forceOff();
    (options.exit ?? ((code: number) => process.exit(code)))(1);
  };
  const onExit = (): void => forceOff();
  const onException = (err: unknown): void => crash('process.uncaught-exception', err);
  const onRejection = (reason: unknown): void => crash('process.unhandled-rejection', reason);

  process.on('exit', onExit);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('exit', onExit);
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
