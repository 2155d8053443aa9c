import type { ScanEvent } from '../../protocol/event.js';
import type { QrgateProcess } from '../helpers/qrgateProcess.js';

/** One run of a terminal process and how the test ended it (null: still running). */
export interface Boot {
  readonly proc: QrgateProcess;
  ended: 'SIGKILL' | 'SIGTERM' | null;
}

export interface RelayReport {
  /** Every relay rise (gpio.set relay 1) over all boots. */
  readonly pulses: number;
  /** SIGKILLs that caught the relay energised: a real line keeps its level until the next start. */
  readonly killedWhileOn: number;
  readonly problems: string[];
}

/**
 * Reads each boot's log in order. The lane records a decision, drives the outputs, then logs
 * `scan.decided` (gateway/lane.ts `finish`), all in one synchronous turn, so a relay rise
 * belongs to the next `scan.decided` line, which must be a grant. A boot killed between the
 * two has no line for it: then the first stored event of that boot after its last logged
 * one must be a grant. A clean stop must leave the relay off.
 */
export function checkRelay(boots: readonly Boot[], stored: readonly ScanEvent[]): RelayReport {
  const problems: string[] = [];
  let pulses = 0;
  let killedWhileOn = 0;
  for (const [index, boot] of boots.entries()) {
    const bootId = boot.proc.lines.find((l) => l.msg === 'terminal.ready')?.bootId;
    const name = `boot ${index + 1} (${String(bootId)})`;
    let level = 0;
    let unexplainedRise = false;
    let lastLoggedSeq = 0;
    let bootPulses = 0;
    for (const line of boot.proc.lines) {
      if (line.msg === 'gpio.set' && line.output === 'relay') {
        level = line.value as number;
        if (level === 1) {
          bootPulses++;
          unexplainedRise = true;
        }
      } else if (line.msg === 'scan.decided') {
        lastLoggedSeq = line.seq as number;
        if (unexplainedRise && line.decision !== 'granted') {
          problems.push(`${name}: relay pulse for seq ${lastLoggedSeq}, ${String(line.decision)}/${String(line.reason)}`);
        }
        unexplainedRise = false;
      }
    }
    const ofBoot = stored.filter((e) => e.bootId === bootId).sort((a, b) => a.seq - b.seq);
    if (unexplainedRise) {
      const next = ofBoot.find((e) => e.seq > lastLoggedSeq);
      if (next?.decision !== 'granted') problems.push(`${name}: relay pulse before the kill, next stored event ${JSON.stringify(next ?? null)}`);
    }
    const grants = ofBoot.filter((e) => e.decision === 'granted').length;
    if (bootPulses > grants) problems.push(`${name}: ${bootPulses} relay pulses for ${grants} stored grants`);
    if (boot.ended === 'SIGTERM' && level !== 0) problems.push(`${name}: relay left on after a clean stop`);
    if (boot.ended === 'SIGKILL' && level === 1) killedWhileOn++;
    pulses += bootPulses;
  }
  return { pulses, killedWhileOn, problems };
}
