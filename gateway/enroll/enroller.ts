import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';
import { commitStaged, stageFile } from '../../protocol/atomicFile.js';
import { brokerForLogs } from '../../protocol/brokerUrl.js';
import { resolveFrom } from '../../protocol/configFile.js';
import { parseEnrollmentQr, type EnrollmentQr } from '../../protocol/enrollment.js';
import { ConfigError } from '../../protocol/configFile.js';
import { loadHardwareConfig, withLaneDefaults, type HardwareConfig, type LaneConfig } from '../config.js';
import { buildLaneHardware, type LaneHardware } from '../terminal.js';
import { enrollOverMqtt, type EnrollExchange, type EnrollExchangeOptions } from './enrollClient.js';
import { outcomeShowMs, showContacting, showEnrolled, showFailure, showWaiting, type EnrollFailure } from './enrollSignals.js';
import { answerProblem, EnrollmentConfigError, saveEnrollment } from './saveEnrollment.js';

/**
 * A terminal without an identity, waiting for its enrollment QR (docs/enrollment.md): every
 * lane's scanner reads, every lane's LEDs and buzzer tell the technician where things stand
 * (enrollSignals.ts). A scan that is an enrollment QR is taken to the central it names; the
 * answer is checked and saved (saveEnrollment.ts), and `enrolled` resolves once the files
 * are in place and the hardware is released for the terminal proper. Anything else is
 * refused with its signal and a log line, and the terminal goes on waiting.
 *
 * What was scanned is never logged: a technician may well try a citizen ID card first.
 */

export interface EnrollerDeps {
  readonly logger: Logger;
  /** Default: the drivers the config names. */
  readonly buildHardware?: (lane: LaneConfig, logger: Logger) => LaneHardware;
  /** Default: enrollOverMqtt. */
  readonly exchange?: (options: EnrollExchangeOptions) => Promise<EnrollExchange>;
  /** For one exchange with the central, connect included. Default 20 s: a Pi on a mobile link. */
  readonly exchangeTimeoutMs?: number;
}

/** The device's enrollment nonce, kept in dataDir so a retry after a crash or a lost answer is known as the same device. */
function deviceNonce(dataDir: string): string {
  const file = join(dataDir, 'enroll-device');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(kept)) return kept;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const nonce = randomBytes(16).toString('hex');
  commitStaged([stageFile(file, `${nonce}\n`, 0o600)]);
  return nonce;
}

export class Enroller {
  /** Resolves once enrolled, saved and the hardware released. */
  readonly enrolled: Promise<void>;
  private markEnrolled!: () => void;
  private hardware: LaneHardware[] = [];
  private busy = false;
  private done = false;
  private waitingTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private clientId = '';

  constructor(
    private readonly configFile: string,
    private readonly config: HardwareConfig,
    private readonly deps: EnrollerDeps,
  ) {
    this.enrolled = new Promise((resolve) => (this.markEnrolled = resolve));
  }

  async start(): Promise<void> {
    const { logger } = this.deps;
    this.clientId = `enroll-${deviceNonce(resolveFrom(this.configFile, this.config.dataDir))}`;
    // No checkpoint yet: only the hardware is built from these, not a decision.
    const lanes = this.config.lanes.map((lane) => withLaneDefaults(lane, 'auto'));
    const build = this.deps.buildHardware ?? buildLaneHardware;
    this.hardware = lanes.map((lane) => build(lane, logger.child({ lane: lane.name })));
    for (const hw of this.hardware) {
      hw.scanner.on('frame', (frame: ScanFrame) => void this.onFrame(frame));
      await hw.scanner.start();
    }
    this.signal(showWaiting);
    logger.info({ lanes: lanes.map((l) => l.name) }, 'enroll.waiting');
  }

  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  private async release(): Promise<void> {
    if (this.waitingTimer) clearTimeout(this.waitingTimer);
    for (const hw of this.hardware) {
      await hw.scanner.stop().catch((err: unknown) => this.deps.logger.error({ err }, 'enroll.scanner-stop-failed'));
      hw.gpio.closeAll();
    }
  }

  private signal(show: (signals: LaneHardware['signals']) => void): void {
    for (const hw of this.hardware) show(hw.signals);
  }

  private async onFrame(frame: ScanFrame): Promise<void> {
    if (this.busy || this.done || this.stopping) {
      this.deps.logger.info({ bytes: frame.byteLength }, 'enroll.scan-ignored');
      return;
    }
    this.busy = true;
    try {
      const parsed = frame.problem ? null : parseEnrollmentQr(frame.text);
      if (parsed === null || !parsed.ok) {
        this.deps.logger.warn({ bytes: frame.byteLength, detail: parsed?.detail ?? frame.problem }, 'enroll.not-an-enrollment-qr');
        return this.fail('not-enrollment-qr');
      }
      await this.enroll(parsed.qr);
    } catch (err) {
      this.deps.logger.error({ err }, 'enroll.failed');
      this.fail('unavailable');
    } finally {
      this.busy = false;
    }
  }

  /**
   * The hardware config as it is on disk now: after `enroll.config-invalid` the technician
   * fixes the file and scans the same QR again, with no restart (docs/enrollment.md). The
   * lanes keep running on the drivers built at start; the terminal proper builds its own
   * from the saved config.
   */
  private currentConfig(): HardwareConfig | null {
    try {
      return loadHardwareConfig(this.configFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.deps.logger.error({ problems: err.problems }, 'enroll.config-invalid');
      this.fail('config-invalid');
      return null;
    }
  }

  private async enroll(qr: EnrollmentQr): Promise<void> {
    const { logger } = this.deps;
    const url = qr.body.url;
    logger.info({ checkpoint: qr.body.checkpoint, central: brokerForLogs(url), expiresAt: new Date(qr.body.expiresAt * 1000).toISOString() }, 'enroll.qr-read');
    // Before the central is asked: a config that cannot be saved is reported at once.
    const config = this.currentConfig();
    if (config === null) return;
    this.signal(showContacting);
    const ca = config.centralCa === undefined ? undefined : readFileSync(resolveFrom(this.configFile, config.centralCa));
    const exchange = await (this.deps.exchange ?? enrollOverMqtt)({
      url,
      qrText: qr.text,
      clientId: this.clientId,
      timeoutMs: this.deps.exchangeTimeoutMs ?? 20_000,
      ...(ca ? { ca } : {}),
    });
    if (exchange.kind === 'unreachable') {
      logger.warn({ central: brokerForLogs(url), detail: exchange.detail }, 'enroll.central-unreachable');
      return this.fail('central-unreachable');
    }
    if (exchange.kind === 'bad-answer') {
      logger.error({ central: brokerForLogs(url), detail: exchange.detail }, 'enroll.bad-answer');
      return this.fail('bad-answer');
    }
    const result = exchange.result;
    if (!result.ok) {
      logger.warn({ reason: result.reason, message: result.message }, 'enroll.refused');
      return this.fail(result.reason);
    }
    const problem = answerProblem(qr, result);
    if (problem !== null) {
      logger.error({ central: brokerForLogs(url), detail: problem }, 'enroll.bad-answer');
      return this.fail('bad-answer');
    }
    try {
      saveEnrollment(this.configFile, config, result, url);
    } catch (err) {
      if (!(err instanceof EnrollmentConfigError)) throw err;
      logger.error({ problems: err.problems }, 'enroll.config-invalid');
      return this.fail('config-invalid');
    }
    this.done = true;
    logger.info({ terminalId: result.terminalId, checkpoint: result.checkpoint.code, lists: result.lists, config: this.configFile }, 'enroll.saved');
    this.signal(showEnrolled);
    // Long enough to be seen and heard before the terminal proper takes the lines over.
    await new Promise((resolve) => setTimeout(resolve, outcomeShowMs));
    await this.stop();
    this.markEnrolled();
  }

  private fail(failure: EnrollFailure): void {
    this.signal((signals) => showFailure(signals, failure));
    if (this.waitingTimer) clearTimeout(this.waitingTimer);
    this.waitingTimer = setTimeout(() => {
      this.waitingTimer = null;
      if (!this.done && !this.stopping) this.signal(showWaiting);
    }, outcomeShowMs);
  }
}
