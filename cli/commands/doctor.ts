import { createInterface } from 'node:readline';
import pino from 'pino';
import { loadTerminalConfig, type TerminalConfig } from '../../gateway/config.js';
import { lockTerminalDataDirForDoctor } from '../../gateway/dataDirLock.js';
import { centralCheck } from '../../gateway/doctor/centralCheck.js';
import { laneChecks } from '../../gateway/doctor/hardwareChecks.js';
import { anyFailed, formatReport, type CheckResult } from '../../gateway/doctor/report.js';
import { stateChecks } from '../../gateway/doctor/stateChecks.js';
import { buildLaneHardware } from '../../gateway/terminal.js';
import { systemdClockSynced } from '../../gateway/uplink/clockSync.js';
import { createLogger } from '../../protocol/logger.js';
import { countOption, parseOptions, requireOption, type CliContext, type Command } from '../command.js';

/**
 * `qrgate doctor --config F`: the technician's self-test, with the terminal service stopped
 * (it needs the scanner and the GPIO lines to itself). Every LED, the buzzer and a relay
 * click, confirmed by the technician (or `--yes`); one scan read through the lane's own
 * driver; the central reached with the terminal's credentials; clock, lists, disk, outbox.
 * A PASS/FAIL table (or `--json`), exit 1 on any FAIL.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    config: { type: 'string', short: 'c' },
    yes: { type: 'boolean', short: 'y' },
    json: { type: 'boolean' },
    'scan-timeout': { type: 'string' },
  });
  const config = loadTerminalConfig(requireOption(values, 'config'));
  const scanTimeoutMs = countOption(values['scan-timeout'], 'scan-timeout', 30) * 1000;
  // Refused (DataDirLockedError, naming the terminal's pid) while the terminal runs, and held
  // for the run so the terminal cannot start halfway through the self-test.
  const lock = lockTerminalDataDirForDoctor(config.dataDir);
  try {
    return await selfTest(ctx, config, { yes: values.yes === true, json: values.json === true, scanTimeoutMs });
  } finally {
    lock.release();
  }
};

async function selfTest(ctx: CliContext, config: TerminalConfig, options: { yes: boolean; json: boolean; scanTimeoutMs: number }): Promise<number> {
  const { scanTimeoutMs } = options;
  // Driver lines (gpio.set, scanner.connected) go to stderr at warn: stdout is the report.
  const logger = createLogger({ level: 'warn', base: { terminalId: config.terminalId }, destination: pino.destination({ dest: 2, sync: true }) });
  // Questions and instructions on stderr, the report alone on stdout.
  const say = (text: string) => ctx.stderr.write(`${text}\n`);
  // Answers are read as lines from stdin (a keyboard over SSH, or a script); one typed
  // ahead is kept for the next question. Stdin closed: every later question is a no.
  const prompt = options.yes ? null : createInterface({ input: process.stdin });
  const answers = prompt?.[Symbol.asyncIterator]();
  const confirm = async (question: string): Promise<boolean> => {
    if (!answers) return true;
    ctx.stderr.write(`${question} [y/n]\n`);
    const answer = await answers.next();
    return !answer.done && /^y(es)?$/i.test(answer.value.trim());
  };

  const results: CheckResult[] = [];
  try {
    for (const lane of config.lanes) {
      const hardware = buildLaneHardware(lane, logger);
      try {
        results.push(...(await laneChecks(lane, hardware, { confirm, asked: !options.yes, tell: say, relayPulseMs: config.policy.relayPulseMs, scanTimeoutMs, logger })));
      } finally {
        hardware.gpio.closeAll();
      }
    }
  } finally {
    prompt?.close();
  }
  results.push(...(await centralCheck(config.central, config.terminalId)));
  results.push(...stateChecks(config, { nowMs: Date.now(), clockSynced: systemdClockSynced }));

  ctx.stdout.write(options.json ? `${JSON.stringify({ ok: !anyFailed(results), checks: results })}\n` : formatReport(results));
  return anyFailed(results) ? 1 : 0;
}
