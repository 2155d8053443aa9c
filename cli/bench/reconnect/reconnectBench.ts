import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateSecret, hashSecret } from '../../../broker/auth/secrets.js';
import { centralDbFileName, loadCentralConfig, withCentralStore } from '../../../broker/config.js';
import { createCheckpoint } from '../../../broker/registry/checkpoints.js';
import type { Logger } from '../../../protocol/logger.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import { BenchChild } from '../e2e/child.js';
import { cpuSeconds } from '../e2e/procStats.js';
import { round } from '../stats.js';
import type { LoginClientsReport, LoginClientsSpec } from './loginClients.js';
import { centralNodeFlags } from '../../../broker/nodeFlags.js';

export interface ReconnectBenchOptions {
  readonly terminals: number;
  /** Child processes the terminals are spread over (they share the machine with the central). */
  readonly processes: number;
  /** The qrgate entry for the children. Default: the one this process runs. */
  readonly entry?: string;
  readonly logger: Logger;
  readonly log: (line: string) => void;
  /**
   * A folder for a V8 CPU profile of the restarted central (`node --cpu-prof`), written
   * when the bench stops it: what the central spent taking the fleet back on. None by default.
   */
  readonly centralCpuProfileDir?: string;
}

export interface ReconnectBenchResult {
  readonly terminals: number;
  readonly processes: number;
  /** Provisioning every terminal (secret, hash, store row), ms. */
  readonly provisionMs: number;
  /** First start: from the clients' start to every terminal logged in and its status online in the store, ms. */
  readonly coldStartMs: number;
  /** SIGKILL of the central to its `central.ready` again, ms. */
  readonly restartReadyMs: number;
  /** From `central.ready` after the restart to every terminal logged in again (CONNACK), ms. */
  readonly allLoggedInMs: number;
  /** From `central.ready` after the restart to every terminal's `online` status stored anew, ms. */
  readonly allOnlineMs: number;
  /** The restarted central's peak resident set while taking the fleet back, MB. */
  readonly centralPeakRssMb: number | null;
  /** Its CPU time over that period, s (user + system). */
  readonly centralCpuS: number | null;
  /** Log lines it wrote over that period (info and above, as a service logs): a login storm must not be a log flood. */
  readonly centralLogLines: number;
}

const deadlineMs = 600_000;

/**
 * `qrgate bench reconnect` (issue 15, "Reconnect storms"): a central with N terminals
 * logged in is killed and started again; how long until the whole fleet is back, logged in
 * and its status stored. The terminals are gateway/uplink's connection options and backoff
 * in child processes (loginClients.ts); the central is a real `qrgate central` child on a
 * fixed free port, so the terminals find it again where they left it.
 */
export async function runReconnectBench(options: ReconnectBenchOptions): Promise<ReconnectBenchResult> {
  const entry = options.entry ?? process.argv[1]!;
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-reconnect-'));
  const children: BenchChild[] = [];
  let central: BenchChild | null = null;
  try {
    const port = await freePort();
    const configFile = writeLocalCentral(dir, {
      // Room above the fleet: the operator's own tools connect too.
      mqtt: { host: '127.0.0.1', port, maxConnections: options.terminals + 1000 },
    });
    const config = loadCentralConfig(configFile);
    const storeFile = join(config.dataDir, centralDbFileName);
    central = await startCentral(entry, configFile);

    const provisionStarted = performance.now();
    const terminals = await withCentralStore(config, { logger: options.logger }, async (store) => {
      const checkpoint = await createCheckpoint(store, { name: 'Bench reconnect', direction: 'in', confirm: 'auto' });
      const list: { terminalId: string; checkpointCode: string; secret: string }[] = [];
      for (let i = 0; i < options.terminals; i++) {
        const terminalId = `rc-${String(i).padStart(5, '0')}`;
        const secret = generateSecret();
        await store.addTerminal({ terminalId, checkpointCode: checkpoint.code, secretHash: await hashSecret(secret), listScopes: [] });
        list.push({ terminalId, checkpointCode: checkpoint.code, secret });
      }
      return list;
    });
    const provisionMs = performance.now() - provisionStarted;
    options.log(`${terminals.length} terminals provisioned in ${Math.round(provisionMs)} ms`);

    const counts = new Map<BenchChild, number>();
    const loggedIn = (): number => [...counts.values()].reduce((a, b) => a + b, 0);
    const shareSize = Math.ceil(terminals.length / options.processes);
    const clientsStarted = performance.now();
    const coldWall = Date.now();
    for (let i = 0; i * shareSize < terminals.length; i++) {
      const spec: LoginClientsSpec = { url: `mqtt://127.0.0.1:${port}`, terminals: terminals.slice(i * shareSize, (i + 1) * shareSize) };
      const specFile = join(dir, `clients-${i}.json`);
      writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 });
      const child = new BenchChild(entry, ['bench', 'reconnect-clients', '--spec', specFile]);
      children.push(child);
      counts.set(child, 0);
      child.onLine((line) => {
        if (line.msg === 'clients.count') counts.set(child, (line as unknown as LoginClientsReport).connected);
      });
    }
    await until(() => loggedIn() === terminals.length, 'every terminal logged in');
    await until(() => onlineSince(storeFile, coldWall) === terminals.length, 'every status online in the store');
    const coldStartMs = performance.now() - clientsStarted;
    options.log(`cold start: the fleet is online after ${Math.round(coldStartMs)} ms`);

    const killedAt = performance.now();
    const killedWall = Date.now();
    await central.kill();
    central = null;
    await until(() => loggedIn() === 0, 'every terminal to notice the central is gone');
    const profileFlags = options.centralCpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.centralCpuProfileDir}`];
    central = await startCentral(entry, configFile, profileFlags);
    const readyAt = performance.now();
    let logLines = 0;
    const linesByMessage = new Map<string, number>();
    const stopCounting = central.onLine((line) => {
      logLines++;
      linesByMessage.set(line.msg, (linesByMessage.get(line.msg) ?? 0) + 1);
    });
    const cpuBefore = await cpuSeconds(central.pid);
    await until(() => loggedIn() === terminals.length, 'every terminal logged in again');
    const allLoggedInMs = performance.now() - readyAt;
    await until(() => onlineSince(storeFile, killedWall) === terminals.length, 'every status online again in the store');
    const allOnlineMs = performance.now() - readyAt;
    const cpuAfter = await cpuSeconds(central.pid);
    const memory = await central.memory();
    stopCounting();
    options.log(`the restarted central's log lines until all online: ${[...linesByMessage].map(([msg, n]) => `${msg} ${n}`).join(', ') || 'none'}`);
    options.log(`restart: ready ${Math.round(readyAt - killedAt)} ms after the kill; all logged in ${Math.round(allLoggedInMs)} ms, all online ${Math.round(allOnlineMs)} ms after ready`);

    return {
      terminals: terminals.length,
      processes: children.length,
      provisionMs: round(provisionMs, 0),
      coldStartMs: round(coldStartMs, 0),
      restartReadyMs: round(readyAt - killedAt, 0),
      allLoggedInMs: round(allLoggedInMs, 0),
      allOnlineMs: round(allOnlineMs, 0),
      centralPeakRssMb: memory ? round(memory.peakRssMb, 1) : null,
      centralCpuS: cpuBefore !== null && cpuAfter !== null ? round(cpuAfter - cpuBefore, 2) : null,
      centralLogLines: logLines,
    };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startCentral(entry: string, configFile: string, nodeFlags: readonly string[] = []): Promise<BenchChild> {
  const central = new BenchChild(entry, ['central', '--config', configFile], { nodeFlags: [...centralNodeFlags, ...nodeFlags] });
  await central.waitForLine((line) => line.msg === 'central.ready', 60_000, 'central.ready');
  return central;
}

/** Terminals whose `online` status the store recorded at or after `sinceMs` (read by another connection, as an operator's query would). */
function onlineSince(storeFile: string, sinceMs: number): number {
  const db = new Database(storeFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[number], number>('SELECT COUNT(*) FROM fleet_state WHERE online = 1 AND online_at_ms >= ?').pluck().get(sinceMs) ?? 0;
  } finally {
    db.close();
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench reconnect: no ${what} within ${deadlineMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A port the OS says is free now; the central is started on it twice, so it cannot be 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
