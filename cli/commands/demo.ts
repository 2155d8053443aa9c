import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../../protocol/logger.js';
import { parseOptions, UsageError, type Command } from '../command.js';
import { logFormatFrom, logFormatOption } from '../logFormat.js';
import type { CentralPorts } from '../../broker/central.js';
import { CentralDemo, type DemoAccess, type DemoCheckpoint } from '../demo/centralDemo.js';

function number(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got "${value}"`);
  return n;
}

/**
 * `qrgate demo` (= `npm start`): a central and the demo's checkpoints (demoCheckpoints.ts) on loopback,
 * embedded storage in a temporary folder, people scanning at a human pace.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'data-dir': { type: 'string' },
    rate: { type: 'string' },
    'mqtt-port': { type: 'string' },
    'http-port': { type: 'string' },
    'duration-s': { type: 'string' },
    json: { type: 'boolean' },
    ...logFormatOption,
  });
  // --json is the older spelling of --log-format json.
  const format = values.json ? 'json' : logFormatFrom(values);
  const scansPerSec = number(values.rate, 'rate', 1, 0.01);
  const durationS = values['duration-s'] === undefined ? null : number(values['duration-s'], 'duration-s', 0, 1);
  const dir = values['data-dir'] ? resolve(values['data-dir']) : mkdtempSync(join(tmpdir(), 'qrgate-demo-'));

  const logger = createLogger({ format });
  const demo = new CentralDemo({
    dir,
    scansPerSec,
    mqttPort: number(values['mqtt-port'], 'mqtt-port', 0, 0),
    httpPort: number(values['http-port'], 'http-port', 0, 0),
    logger,
  });
  const stopped = new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
    if (durationS !== null) setTimeout(() => done('duration'), durationS * 1000).unref();
  });
  const { ports, checkpoints, access } = await demo.start();
  ctx.stderr.write(demoBanner(dir, ports, checkpoints, access));

  const reason = await stopped;
  logger.info({ reason }, 'demo.stopping');
  await demo.stop();
  logger.info('demo.stopped');
  return 0;
};

/**
 * What a person needs to try the demo: where things are, how to log in, and commands that
 * work as printed. The passwords and the token are shown here once and are never logged.
 */
export function demoBanner(dir: string, ports: CentralPorts, checkpoints: readonly DemoCheckpoint[], access: DemoAccess): string {
  const api = `http://127.0.0.1:${ports.httpPort}`;
  const code = checkpoints[0]!.code;
  const bearer = `-H 'Authorization: Bearer ${access.readOnlyToken}'`;
  const login = JSON.stringify({ username: access.admin.username, password: access.admin.password });
  return [
    '',
    `qrgate demo — a central and ${checkpoints.length} simulated checkpoints on this machine`,
    `  data:    ${dir}`,
    `  MQTT:    mqtt://127.0.0.1:${ports.mqttPort}   (terminals log in with their own credentials)`,
    `  Console: ${api}/   (open it in a browser and log in with an account below; ?lang=en for English)`,
    `  Lookup:  ${api}/check?code=${code}   (open to anyone: a checkpoint's counts)`,
    `  API:     ${api}/api/…`,
    ...checkpoints.map((c) => `  ${c.code}  ${c.name}  (terminal ${c.terminalId}: lanes in, out)`),
    '',
    '  Accounts (passwords generated for this run, shown only here):',
    `    admin  ${access.admin.username} / ${access.admin.password}`,
    `    guard  ${access.guard.username} / ${access.guard.password}   (checkpoint ${access.guard.checkpoint})`,
    `  Read-only token: ${access.readOnlyToken}`,
    '',
    '  Try:',
    `    curl ${bearer} ${api}/api/checkpoints/${code}/stats`,
    `    curl ${bearer} '${api}/api/events?checkpoint=${code}&limit=5'`,
    `    curl ${bearer} ${api}/api/terminals`,
    `    curl ${bearer} ${api}/metrics`,
    `    curl ${api}/api/public/checkpoints/${code}/stats   # open to anyone: the inspectors' lookup`,
    `    curl -c cookies.txt -H 'content-type: application/json' -d '${login}' ${api}/api/session`,
    '',
    '  Every decision is a `scan.decided` line; the simulated GPIO logs each output as `gpio.set`.',
    '  Ctrl-C stops everything; the relays are switched off on the way out.',
    '',
  ].join('\n');
}
