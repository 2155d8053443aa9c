import type { Logger } from 'pino';
import { parseCredential } from '../../protocol/credentials/index.js';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';
import type { LaneConfig } from '../config.js';
import { GateRelay } from '../gateRelay.js';
import type { LaneHardware } from '../terminal.js';
import { fail, pass, skip, type CheckResult } from './report.js';

export interface HardwareCheckOptions {
  /** Asks the technician a yes/no question; `--yes` answers yes without asking. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** False with `--yes`: a pulse then only proves the line could be driven. */
  readonly asked: boolean;
  /** Tells the technician what to do now (scan a card). */
  readonly tell: (text: string) => void;
  readonly relayPulseMs: number;
  readonly scanTimeoutMs: number;
  readonly logger: Logger;
}

const outputs = [
  { name: 'green', what: 'the green LED light up' },
  { name: 'red', what: 'the red LED light up' },
  { name: 'buzzer', what: 'the buzzer beep' },
  { name: 'relay', what: 'the relay click (and the gate unlock)' },
] as const;

/** Each output of a lane, then one scan: what the technician sees, hears and does. */
export async function laneChecks(lane: LaneConfig, hardware: LaneHardware, options: HardwareCheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const output of outputs) {
    const check = `${lane.name}: ${output.name}`;
    const signal = hardware.signals[output.name];
    if (!signal.configured) {
      results.push(skip(check, 'not wired in the config'));
      continue;
    }
    if (signal instanceof GateRelay) signal.checkPulse(options.relayPulseMs);
    else signal.pulse(1000);
    const seen = await options.confirm(`${lane.name}: did you see/hear ${output.what}?`);
    signal.stop();
    const line = `line ${lane.gpio.outputs[output.name]} pulsed`;
    if (!options.asked) results.push(pass(check, `${line} (not asked: --yes)`));
    else results.push(seen ? pass(check, `${line} and confirmed`) : fail(check, `${line}, not seen: check wiring and activeLow`));
  }
  results.push(await scanCheck(lane, hardware, options));
  return results;
}

function describeScanner(lane: LaneConfig): string {
  const s = lane.scanner;
  if (s.type === 'serial') return `serial ${s.path} at ${s.baudRate} baud, suffix ${JSON.stringify(s.suffix)}`;
  if (s.type === 'hid') return `HID ${s.vendorId.toString(16).padStart(4, '0')}:${s.productId.toString(16).padStart(4, '0')} (${s.mode})`;
  return s.type;
}

/**
 * One scan through the lane's own driver and framing. The result names the credential type
 * read, never its content. Damaged frames point at the usual culprits: a suffix that does
 * not match the module's cuts or glues codes, a wrong baud rate garbles every byte.
 */
async function scanCheck(lane: LaneConfig, hardware: LaneHardware, options: HardwareCheckOptions): Promise<CheckResult> {
  const check = `${lane.name}: scanner`;
  const scanner = hardware.scanner;
  if (scanner.type === 'sim' || scanner.type === 'stdin') return skip(check, `${scanner.type} scanner: nothing to read`);
  const described = describeScanner(lane);
  let lastReason = 'never opened';
  scanner.on('disconnected', (reason) => (lastReason = reason));
  const frame = new Promise<ScanFrame>((resolve) => scanner.once('frame', resolve));
  await scanner.start();
  options.tell(`${lane.name}: scan any qrgate card, CCCD or PC-Covid QR within ${Math.round(options.scanTimeoutMs / 1000)} s`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), options.scanTimeoutMs)));
  try {
    const got = await Promise.race([frame, timeout]);
    if (!got) {
      return fail(check, scanner.connected ? `${described}: open, but no scan read: check baud rate and suffix against the module` : `${described}: cannot open (${lastReason})`);
    }
    if (got.problem === 'too-long') return fail(check, `${described}: ${got.byteLength} bytes without a suffix: is the module's suffix ${JSON.stringify(lane.scanner.type === 'serial' ? lane.scanner.suffix : '')}?`);
    if (got.problem) return fail(check, `${described}: garbled frame (${got.problem}): check the baud rate`);
    const parsed = parseCredential(got.text, { typed: false });
    return parsed.ok
      ? pass(check, `${described}: read a ${parsed.credential.type} code`)
      : fail(check, `${described}: read ${got.byteLength} bytes that are no credential (${parsed.detail})`);
  } finally {
    clearTimeout(timer);
    await scanner.stop();
  }
}
