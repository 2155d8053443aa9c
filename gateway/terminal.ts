import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DigitalOutput, GpioBackend } from '../hardware/gpio/gpio.js';
import { createGpio } from '../hardware/gpio/createGpio.js';
import { installRelaySafety } from '../hardware/gpio/relaySafety.js';
import { createScanner } from '../hardware/scanners/createScanner.js';
import type { Scanner } from '../hardware/scanners/scanner.js';
import { createRefHasher } from '../protocol/credentialRef.js';
import { loadPublicKeys, loadRefKey } from '../protocol/keys.js';
import { TerminalClock } from './clock.js';
import type { LaneConfig, TerminalConfig } from './config.js';
import { laneSignals, type LaneSignals } from './feedback.js';
import { Lane, type LaneInputs } from './lane.js';
import { ListCache } from './listCache.js';
import { lockTerminalDataDir, type DataDirLock } from './dataDirLock.js';
import { createListApplier, type ListApplier } from './lists/listApplier.js';
import { Outbox } from './outbox.js';
import { PendingBoard } from './pendingBoard.js';
import { Presence } from './presence.js';
import { StorageHealth } from './storageHealth.js';
import { openTerminalDb, terminalDbPath, type TerminalDb } from './terminalDb.js';
import { startWalCheckpointer, type WalCheckpointer } from '../protocol/walCheckpointer.js';
import type { ListSync } from './listSync/listSync.js';
import type { Uplink } from './uplink/uplink.js';

/** The hardware a lane runs on; tests and the benchmark may build their own. */
export interface LaneHardware {
  readonly scanner: Scanner;
  readonly gpio: GpioBackend;
  readonly signals: LaneSignals;
  readonly inputs: LaneInputs;
  readonly relay: DigitalOutput | null;
}

export interface TerminalDeps {
  readonly logger: Logger;
  /** Defaults to the drivers the config names (createScanner / createGpio). */
  readonly buildHardware?: (lane: LaneConfig, logger: Logger) => LaneHardware;
  /** What a refused second process is told holds the dataDir. Default `qrgate terminal`. */
  readonly command?: string;
}

export function buildLaneHardware(lane: LaneConfig, logger: Logger): LaneHardware {
  const scanner = createScanner(lane.scanner, { logger });
  const gpio = createGpio(lane.gpio, { logger });
  const output = (name: 'green' | 'red' | 'buzzer' | 'relay') => {
    const line = lane.gpio.outputs[name];
    return line === undefined ? null : gpio.output(name, line);
  };
  const input = (name: 'confirm' | 'reject' | 'passage') => {
    const line = lane.gpio.inputs[name];
    const activeLow = lane.gpio.activeLow?.[name] ?? false;
    return line === undefined ? undefined : gpio.input(name, line, { debounceMs: lane.gpio.inputDebounceMs, activeLow });
  };
  const relay = output('relay');
  const signals = laneSignals({ relay, green: output('green'), red: output('red'), buzzer: output('buzzer') }, logger);
  const inputs: LaneInputs = { confirm: input('confirm'), reject: input('reject'), passage: input('passage') };
  return { scanner, gpio, signals, inputs, relay };
}

/**
 * The terminal service: two SQLite files in its dataDir, terminal.db (the outbox, presence,
 * the clock's high-water mark) and lists.db (the verified lists, written by the apply
 * worker, kept apart so a list apply never holds up a scan's insert), and its lanes. It
 * needs no network: everything a decision needs is local.
 */
export class Terminal {
  readonly bootId = randomUUID();
  private dataDirLock: DataDirLock | null = null;
  private db: TerminalDb | null = null;
  private checkpointer: WalCheckpointer | null = null;
  private lanes: Lane[] = [];
  private hardware: LaneHardware[] = [];
  private clock: TerminalClock | null = null;
  private lists: ListCache | null = null;
  private applier: ListApplier | null = null;
  private uplink: Uplink | null = null;
  private listSync: ListSync | null = null;
  private uninstallRelaySafety: (() => void) | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: TerminalConfig,
    private readonly deps: TerminalDeps,
  ) {}

  async start(): Promise<void> {
    if (this.db) return;
    const { config, deps } = this;
    const logger = deps.logger;
    // Before anything is opened: a second terminal (or doctor) on this folder would share
    // its outbox, its GPIO lines and its login, and knock this one off the broker.
    this.dataDirLock = lockTerminalDataDir(config.dataDir, deps.command ?? 'qrgate terminal');
    // Keys first: a terminal that cannot check lists must not come up half-working.
    const trustedKeys = loadPublicKeys(config.keys.listPublicKeys);
    const hashRef = createRefHasher(loadRefKey(config.keys.refKey));

    const db = openTerminalDb(config.dataDir, { powerLossSafe: config.storage.powerLossSafe });
    this.db = db;
    // A scan's outbox commit must not be the one that checkpoints (walCheckpointer.ts).
    this.checkpointer = startWalCheckpointer(db, {
      file: terminalDbPath(config.dataDir),
      powerLossSafe: config.storage.powerLossSafe,
      logger: logger.child({ component: 'storage' }),
    });
    const clock = new TerminalClock(db);
    this.clock = clock;
    const lists = new ListCache(config.dataDir);
    this.lists = lists;
    // Verifies and installs downloaded lists on a worker thread: scans never wait for it.
    const applier = createListApplier({
      dataDir: config.dataDir,
      trustedKeyFiles: config.keys.listPublicKeys,
      scopes: config.lists,
      powerLossSafe: config.storage.powerLossSafe,
      logger: logger.child({ component: 'lists' }),
      // One extra isolate at a time: the checkpointer waits while the apply worker runs.
      onRunning: (running) => (running ? void this.checkpointer?.pause() : this.checkpointer?.resume()),
    });
    this.applier = applier;
    for (const list of lists.installed().values()) clock.observe(list.issuedAtMs);
    const storage = new StorageHealth({ logger: logger.child({ component: 'storage' }) });
    const outbox = new Outbox(db, { terminalId: config.terminalId, checkpointCode: config.checkpoint.code, bootId: this.bootId }, clock, storage);
    const abandoned = outbox.finalizeAbandoned();
    if (abandoned > 0) logger.info({ events: abandoned }, 'outbox.passage-unknown');
    const presence = new Presence(db, config.policy.antiPassbackWindowMs);
    const pendingBoard = new PendingBoard();

    const build = deps.buildHardware ?? buildLaneHardware;
    this.hardware = config.lanes.map((lane) => build(lane, logger.child({ lane: lane.name })));
    // The relay is de-energised on every exit path this process can see (DESIGN.md "Fail-safe").
    this.uninstallRelaySafety = installRelaySafety(
      this.hardware.flatMap((hw) => (hw.relay ? [hw.relay] : [])),
      logger,
    );
    this.lanes = config.lanes.map(
      (lane, i) =>
        new Lane({
          config: lane,
          policy: config.policy,
          scopes: config.lists,
          scanner: this.hardware[i]!.scanner,
          signals: this.hardware[i]!.signals,
          inputs: this.hardware[i]!.inputs,
          outbox,
          lists,
          presence,
          clock,
          hashRef,
          pendingBoard,
          logger: logger.child({ lane: lane.name }),
        }),
    );
    for (const lane of this.lanes) await lane.start();

    const installed = lists.installed();
    logger.info(
      {
        // terminalId is in the logger's bindings
        checkpoint: config.checkpoint.code,
        bootId: this.bootId,
        lanes: config.lanes.map((l) => ({ name: l.name, direction: l.direction, scanner: l.scanner.type, gpio: l.gpio.type })),
        lists: config.lists.map((scope) => ({ scope, version: installed.get(scope)?.version ?? null })),
        outboxDepth: outbox.depth(),
        readyMs: Math.round(performance.now()),
      },
      'terminal.ready',
    );

    // After ready: the gate already decides offline; the uplink (and mqtt.js with it) loads
    // afterwards and connects in the background. start() never waits for the network
    // (STYLE.md habit 9), and an offline-only terminal never loads the MQTT client at all.
    if (config.central) {
      const [{ Uplink }, { ListSync }, { SqliteCommandMemory }] = await Promise.all([
        import('./uplink/uplink.js'),
        import('./listSync/listSync.js'),
        import('./uplink/commandMemory.js'),
      ]);
      if (this.stopping) return;
      this.listSync = new ListSync({
        scopes: config.lists,
        trustedKeys,
        installedVersion: (scope) => lists.installed().get(scope)?.version ?? null,
        nowMs: () => clock.now().ms,
        installer: applier,
        downloadDir: join(config.dataDir, 'lists', 'downloads'),
        logger: logger.child({ component: 'lists' }),
      });
      this.uplink = new Uplink({
        commandMemory: new SqliteCommandMemory(db),
        config: config.central,
        terminalId: config.terminalId,
        checkpointCode: config.checkpoint.code,
        bootId: this.bootId,
        outbox,
        clock,
        lists,
        storage,
        listSync: this.listSync,
        scopes: config.lists,
        lanes: this.lanes.map((lane, i) => ({
          name: lane.name,
          scannerConnected: () => this.hardware[i]!.scanner.connected,
          remoteOpen: (answer) => lane.remoteOpen(answer),
          answerPending: (id, decision, by) => lane.answerPending(id, decision, by),
        })),
        pendingBoard,
        logger: logger.child({ component: 'uplink' }),
      });
      this.uplink.start();
    }
  }

  /** Installs list files off the scan thread (for the list sync); null until started. */
  get listApplier(): ListApplier | null {
    return this.applier;
  }

  /** Safe to call twice and from a signal handler; the relay is off when it resolves. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    // First: a clean offline status while the connection is still there, and no PUBACK
    // can arrive for a row after the database is closed.
    await this.uplink?.stop().catch((err: unknown) => this.deps.logger.error({ err }, 'uplink.stop-failed'));
    await this.listSync?.close().catch((err: unknown) => this.deps.logger.error({ err }, 'lists.sync-close-failed'));
    for (const lane of [...this.lanes].reverse()) {
      await lane.stop().catch((err: unknown) => this.deps.logger.error({ err, lane: lane.name }, 'lane.stop-failed'));
    }
    for (const hw of this.hardware) hw.gpio.closeAll();
    this.uninstallRelaySafety?.();
    this.clock?.persist();
    // Before the applier: its worker's end would otherwise start the checkpointer again.
    await this.checkpointer?.close();
    await this.applier?.close().catch((err: unknown) => this.deps.logger.error({ err }, 'lists.applier-close-failed'));
    this.lists?.close();
    this.db?.close();
    this.dataDirLock?.release();
    this.deps.logger.info('terminal.stopped');
  }
}
