import { consolePages } from '../../console/index.js';
import { randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Central, type CentralPorts } from '../../broker/central.js';
import { createToken } from '../../broker/access/tokens.js';
import { addUser } from '../../broker/access/users.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import type { RegistryDb } from '../../broker/store/sql/registryDb.js';
import { loadTerminalConfig } from '../../gateway/config.js';
import { importListFile } from '../../gateway/listImport.js';
import { buildLaneHardware, Terminal } from '../../gateway/terminal.js';
import type { SimGpio } from '../../hardware/gpio/simGpio.js';
import type { SimScanner } from '../../hardware/scanners/simScanner.js';
import type { Logger } from '../../protocol/logger.js';
import { demoCheckpoints } from './demoCheckpoints.js';
import { createCheckpoint } from '../../broker/registry/checkpoints.js';
import { demoLanes, demoPeople, demoPolicy, demoScope, writeDemoList } from '../../provisioning/demoSite.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { addTerminal } from '../../provisioning/terminals.js';
import { Crowd } from './crowd.js';

export interface DemoOptions {
  readonly dir: string;
  /** Scans per second at each terminal. */
  readonly scansPerSec: number;
  /** 0 = any free port (1883 and 8080 may be taken on this machine). */
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly logger: Logger;
}

/** Who can use the demo's API: generated once per run, shown once in the banner, never logged. */
export interface DemoAccess {
  readonly admin: { readonly username: string; readonly password: string };
  readonly guard: { readonly username: string; readonly password: string; readonly checkpoint: string };
  /** A read-only admin token: every GET works with it, no change does. */
  readonly readOnlyToken: string;
}

export interface DemoCheckpoint {
  readonly code: string;
  readonly name: string;
  readonly terminalId: string;
}

/**
 * `qrgate demo`: a central and a simulated terminal at each of the demo's checkpoints
 * (demoCheckpoints.ts), provisioned
 * the way a technician would (checkpoints create, terminals add, lists import), all on
 * loopback, with a crowd of invented people scanning at a human pace.
 */
export class CentralDemo {
  private central: Central | null = null;
  private readonly terminals: Terminal[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: DemoOptions) {}

  async start(): Promise<{ ports: CentralPorts; checkpoints: DemoCheckpoint[]; access: DemoAccess }> {
    const { dir, logger } = this.options;
    const centralFile = writeLocalCentral(dir, {
      mqtt: { host: '127.0.0.1', port: this.options.mqttPort },
      http: { host: '127.0.0.1', port: this.options.httpPort },
    });
    const { people, strangers } = demoPeople();
    const listFile = join(dir, `${demoScope}.v1.qgl`);
    writeDemoList(join(dir, 'keys'), listFile, people);

    const centralConfig = loadCentralConfig(centralFile);
    this.central = new Central(centralConfig, { logger, pages: consolePages });
    const ports = await this.central.start();

    const provisioned = await withCentralStore(centralConfig, { logger }, async (store) => {
      const result: Array<DemoCheckpoint & { configFile: string }> = [];
      for (const [i, checkpoint] of demoCheckpoints.entries()) {
        const created = await createCheckpoint(store, checkpoint);
        const added = await addTerminal({
          config: centralConfig,
          store,
          checkpointCode: created.code,
          url: `mqtt://127.0.0.1:${ports.mqttPort}`,
          outFile: join(dir, `terminal-${i + 1}.json`),
          terminalId: `demo-gate-${i + 1}`,
          lists: [demoScope],
        });
        result.push({ code: created.code, name: created.name, terminalId: added.terminalId, configFile: added.configFile });
      }
      return result;
    });

    for (const { configFile, terminalId } of provisioned) {
      this.fitDemoHardware(configFile, terminalId);
      const config = loadTerminalConfig(configFile);
      importListFile(config, listFile);
      const scanners = new Map<string, SimScanner>();
      const gpios = new Map<string, SimGpio>();
      const terminal = new Terminal(config, {
        logger: logger.child({ terminalId }),
        buildHardware: (lane, laneLogger) => {
          const hardware = buildLaneHardware(lane, laneLogger);
          scanners.set(lane.name, hardware.scanner as SimScanner);
          gpios.set(lane.name, hardware.gpio as SimGpio);
          return hardware;
        },
      });
      this.terminals.push(terminal);
      await terminal.start();
      this.startCrowd(new Crowd(people, strangers, [...scanners.keys()]), scanners, gpios);
    }
    const access = await withRegistry(centralConfig, (db) => demoAccess(db, provisioned[0]!.code));
    return { ports, checkpoints: provisioned.map(({ code, name, terminalId }) => ({ code, name, terminalId })), access };
  }

  /** Safe to call twice; crowds first, then terminals (relays off), then the central. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      for (const terminal of this.terminals.reverse()) await terminal.stop();
      await this.central?.stop();
    })();
    return this.stopping;
  }

  /** `terminals add` writes one stdin lane for the technician to replace; the demo puts two simulated ones there. */
  private fitDemoHardware(configFile: string, terminalId: string): void {
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    config.dataDir = `${terminalId}-data`;
    config.lanes = demoLanes();
    config.policy = demoPolicy;
    // A quick heartbeat so the fleet view comes alive within seconds.
    config.central.telemetryIntervalMs = 5000;
    writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  }

  private startCrowd(crowd: Crowd, scanners: Map<string, SimScanner>, gpios: Map<string, SimGpio>): void {
    const meanGapMs = 1000 / this.options.scansPerSec;
    const next = (): void => {
      // People arrive irregularly: a gap between 0.5 and 1.5 times the mean.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const action = crowd.next();
        void scanners.get(action.lane)?.inject(action.text);
        // The out lane is attended: its operator looks at the person and decides in ~1.5 s.
        if (action.kind === 'scan' && action.lane === 'out' && action.person?.status === 'check') {
          const decide = setTimeout(() => {
            this.timers.delete(decide);
            gpios.get('out')?.press(randomInt(10) < 7 ? 'confirm' : 'reject');
          }, 1500);
          this.timers.add(decide);
        }
        next();
      }, meanGapMs * (0.5 + Math.random()));
      this.timers.add(timer);
    };
    next();
  }
}

/** An admin, a guard of the first gate (generated passwords) and a read-only token, as an operator would make them with `qrgate users add` / `tokens create`. */
async function demoAccess(db: RegistryDb, guardCheckpoint: string): Promise<DemoAccess> {
  const admin = await addUser(db, { username: 'admin', role: 'admin' });
  const guard = await addUser(db, { username: 'guard', role: 'guard', checkpoints: [guardCheckpoint] });
  const { token } = await createToken(db, { name: 'demo read-only', role: 'admin', readOnly: true, createdBy: 'demo' });
  return {
    admin: { username: admin.user.username, password: admin.generatedPassword! },
    guard: { username: guard.user.username, password: guard.generatedPassword!, checkpoint: guardCheckpoint },
    readOnlyToken: token,
  };
}
