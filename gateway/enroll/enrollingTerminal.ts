import type { Logger } from 'pino';
import { resolveFrom } from '../../protocol/configFile.js';
import { loadTerminalConfig, type HardwareConfig, type TerminalConfig } from '../config.js';
import { lockTerminalDataDir, type DataDirLock } from '../dataDirLock.js';
import { Enroller, type EnrollerDeps } from './enroller.js';

/**
 * `qrgate terminal --enroll` on a terminal with no identity yet: the Enroller until the QR
 * is read and saved, then the terminal proper from the config it saved. One service for
 * the process (cli/service.ts), ready at once, so systemd's start timeout and watchdog
 * keep working while the terminal waits for a technician for as long as that takes.
 */

export interface EnrollingTerminalDeps extends EnrollerDeps {
  readonly logger: Logger;
  /** Builds the terminal proper from the enrolled config. */
  readonly terminal: (config: TerminalConfig) => { start(): Promise<unknown>; stop(): Promise<void> };
}

export class EnrollingTerminal {
  /** Rejects if the terminal proper cannot start after enrolling (cli/service.ts then exits 1). */
  readonly failed: Promise<never>;
  private fail!: (err: unknown) => void;
  private readonly enroller: Enroller;
  private terminal: { stop(): Promise<void> } | null = null;
  private stopping: Promise<void> | null = null;
  private dataDirLock: DataDirLock | null = null;

  constructor(
    private readonly configFile: string,
    private readonly hardware: HardwareConfig,
    private readonly deps: EnrollingTerminalDeps,
  ) {
    this.enroller = new Enroller(configFile, hardware, deps);
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => undefined); // observed through runUntilSignal; never unhandled
  }

  async start(): Promise<void> {
    // Held from the first moment, like a running terminal's: a second `--enroll` would
    // share the device nonce and the scanner.
    this.dataDirLock = lockTerminalDataDir(resolveFrom(this.configFile, this.hardware.dataDir), 'qrgate terminal --enroll');
    await this.enroller.start();
    void this.enroller.enrolled.then(() => this.startTerminal());
  }

  private async startTerminal(): Promise<void> {
    if (this.stopping) return;
    try {
      const terminal = this.deps.terminal(loadTerminalConfig(this.configFile));
      this.terminal = terminal;
      // Handed over: the terminal takes the lock back synchronously as its start begins.
      this.dataDirLock?.release();
      await terminal.start();
    } catch (err) {
      this.fail(err);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.enroller.stop();
      await this.terminal?.stop();
      this.dataDirLock?.release();
    })();
    return this.stopping;
  }
}
