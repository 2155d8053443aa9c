import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { loadTerminalConfig } from '../../gateway/config.js';
import { importListFile } from '../../gateway/listImport.js';
import { buildLaneHardware, Terminal } from '../../gateway/terminal.js';
import type { SimGpio } from '../../hardware/gpio/simGpio.js';
import type { SimScanner } from '../../hardware/scanners/simScanner.js';
import { createLogger } from '../../protocol/logger.js';
import { parseOptions, UsageError, type Command } from '../command.js';
import { Crowd } from '../demo/crowd.js';
import { createDemoSite } from '../../provisioning/demoSite.js';

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/**
 * `qrgate demo` (= `npm start`): a checkpoint with two simulated lanes, a signed list of
 * invented people and a crowd scanning at a human pace, on embedded defaults.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'data-dir': { type: 'string' },
    rate: { type: 'string' },
    'duration-s': { type: 'string' },
    json: { type: 'boolean' },
  });
  const scansPerSec = positiveNumber(values.rate, 'rate', 2);
  const durationS = values['duration-s'] === undefined ? null : positiveNumber(values['duration-s'], 'duration-s', 1);
  const dir = values['data-dir'] ? resolve(values['data-dir']) : mkdtempSync(join(tmpdir(), 'qrgate-demo-'));

  const site = createDemoSite(dir);
  const config = loadTerminalConfig(site.configFile);
  importListFile(config, site.listFile);

  // JSON lines for machines (and --json); colour for a person at a terminal.
  const pretty = !values.json && process.stdout.isTTY;
  const logger = createLogger({
    base: { terminalId: config.terminalId },
    ...(pretty ? { destination: pino.transport({ target: 'pino-pretty', options: { ignore: 'pid,hostname,terminalId,eventId', singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } }) } : {}),
  });
  const scanners = new Map<string, SimScanner>();
  const gpios = new Map<string, SimGpio>();
  const terminal = new Terminal(config, {
    logger,
    buildHardware: (lane, laneLogger) => {
      const hardware = buildLaneHardware(lane, laneLogger);
      scanners.set(lane.name, hardware.scanner as SimScanner);
      gpios.set(lane.name, hardware.gpio as SimGpio);
      return hardware;
    },
  });
  await terminal.start();

  ctx.stderr.write(
    [
      '',
      `qrgate demo — checkpoint ${config.checkpoint.code} "${config.checkpoint.name}", lanes: in (unattended), out (attended)`,
      `  data:   ${dir}`,
      `  config: ${site.configFile}`,
      `  ${site.people.length} registered people (some denied, some needing an operator), plus strangers and unreadable codes`,
      '  Every decision is a `scan.decided` line; every output change of the simulated GPIO is a `gpio.set` line.',
      '  Ctrl-C stops it; the relays are switched off on the way out.',
      '',
    ].join('\n'),
  );

  const crowd = new Crowd(site.people, site.strangers, [...scanners.keys()]);
  const operatorTimers = new Set<NodeJS.Timeout>();
  const tick = setInterval(() => {
    const action = crowd.next();
    void scanners.get(action.lane)?.inject(action.text);
    // The out lane is attended: its operator looks at the person and decides in ~1.5 s.
    if (action.kind === 'scan' && action.lane === 'out' && action.person?.status === 'check') {
      const timer = setTimeout(() => {
        operatorTimers.delete(timer);
        gpios.get('out')?.press(Math.random() < 0.7 ? 'confirm' : 'reject');
      }, 1500);
      operatorTimers.add(timer);
    }
  }, 1000 / scansPerSec);

  const reason = await new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
    if (durationS !== null) setTimeout(() => done('duration'), durationS * 1000).unref();
  });
  clearInterval(tick);
  for (const timer of operatorTimers) clearTimeout(timer);
  logger.info({ reason }, 'demo.stopping');
  await terminal.stop();
  return 0;
};
