import type { ScanEvent } from '../../protocol/event.js';
import type { LogLine, QrgateProcess } from './qrgateProcess.js';

/** One run of a terminal process and how the test ended it (null: still running). */
export interface Boot {
  readonly proc: QrgateProcess;
  ended: EndedBy;
}

/** SIGTERM and SIGINT are clean stops: the relay must be off after them. */
export type EndedBy = 'SIGKILL' | 'SIGTERM' | 'SIGINT' | null;

/** What the check reads of a boot: its log lines, and how it ended. */
export interface LoggedBoot {
  readonly proc: { readonly lines: readonly LogLine[] };
  readonly ended: EndedBy;
}

export interface RelayCheckOptions {
  /**
   * Every event the central stored for the terminal. Given, each pulse must serve a stored
   * grant; without it (no central in the test), the grant the terminal logged.
   */
  readonly stored?: readonly ScanEvent[];
  /** Reads only this terminal's lines, for a process running several (the demo). */
  readonly terminalId?: string;
}

export interface RelayReport {
  /** Pulse requests (`relay.pulse`) over all boots, including those that extended an energised relay. */
  readonly pulses: number;
  /** Relay rises (`gpio.set` relay 1): fewer than the pulses when one grant follows another within a pulse. */
  readonly rises: number;
  /** Decisions other than grants that the check saw (stored, else logged): none of them may have a pulse. */
  readonly refusals: number;
  /** SIGKILLs that caught the relay energised: a real line keeps its level until the next start. */
  readonly killedWhileOn: number;
  readonly problems: string[];
}

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? null));

/**
 * Judges the relay from the terminal's own log. The lane records a decision, then asks the
 * relay for a pulse naming that event (`relay.pulse`, logged before the line moves), then
 * logs `scan.decided`. So every `relay.pulse` must name a grant: the event stored at the
 * central (or, without one, logged by the terminal) and granted, pulsed once. Every rise of
 * the relay line must follow a pulse request of its lane. A clean stop must leave it off.
 */
export function checkRelay(boots: readonly LoggedBoot[], options: RelayCheckOptions = {}): RelayReport {
  const { stored, terminalId } = options;
  const storedById = new Map((stored ?? []).map((e) => [e.id, e]));
  const pulsed = new Set<string>();
  const problems: string[] = [];
  let pulses = 0;
  let rises = 0;
  let refusals = 0;
  let killedWhileOn = 0;
  for (const [index, boot] of boots.entries()) {
    const lines = terminalId === undefined ? boot.proc.lines : boot.proc.lines.filter((l) => l.terminalId === terminalId);
    const bootId = lines.find((l) => l.msg === 'terminal.ready')?.bootId;
    const name = `${terminalId === undefined ? '' : `${terminalId} `}boot ${index + 1} (${text(bootId)})`;
    const logged = new Map(lines.filter((l) => l.msg === 'scan.decided').map((l) => [l.eventId, l]));
    refusals += stored
      ? stored.filter((e) => e.bootId === bootId && e.decision !== 'granted').length
      : [...logged.values()].filter((l) => l.decision !== 'granted').length;
    /** Per lane: the relay's level, and whether a pulse was requested since its last rise. */
    const level = new Map<string, number>();
    const requested = new Set<string>();
    for (const line of lines) {
      const lane = text(line.lane);
      if (line.msg === 'relay.pulse') {
        pulses++;
        requested.add(lane);
        const problem = judgePulse(line, bootId, { logged: logged.get(line.eventId), stored, storedById, pulsed, killed: boot.ended === 'SIGKILL' });
        if (problem) problems.push(`${name} lane ${lane}: relay pulse for seq ${text(line.seq)} (${text(line.decision)}): ${problem}`);
        if (typeof line.eventId === 'string') pulsed.add(line.eventId);
      } else if (line.msg === 'gpio.set' && line.output === 'relay') {
        if (line.value === 1) {
          rises++;
          if (!requested.has(lane)) problems.push(`${name} lane ${lane}: the relay rose with no pulse request`);
          requested.delete(lane);
        }
        level.set(lane, line.value as number);
      }
    }
    const energised = [...level].filter(([, value]) => value === 1).map(([lane]) => lane);
    if ((boot.ended === 'SIGTERM' || boot.ended === 'SIGINT') && energised.length > 0) problems.push(`${name}: relay left on after a clean stop (lane ${energised.join(', ')})`);
    if (boot.ended === 'SIGKILL' && energised.length > 0) killedWhileOn++;
  }
  return { pulses, rises, refusals, killedWhileOn, problems };
}

/** Why one `relay.pulse` line served no grant, or null when it did. */
function judgePulse(
  line: LogLine,
  bootId: unknown,
  seen: {
    logged: LogLine | undefined;
    stored: readonly ScanEvent[] | undefined;
    storedById: ReadonlyMap<string, ScanEvent>;
    pulsed: ReadonlySet<string>;
    killed: boolean;
  },
): string | null {
  if (typeof line.eventId !== 'string') return `it serves no event (${text(line.purpose)})`;
  if (line.decision !== 'granted') return 'the decision it serves is not a grant';
  if (seen.pulsed.has(line.eventId)) return `event ${line.eventId} was pulsed before`;
  if (seen.logged && seen.logged.decision !== 'granted') return `the terminal logged ${text(seen.logged.decision)}/${text(seen.logged.reason)} for it`;
  if (seen.stored) {
    const event = seen.storedById.get(line.eventId);
    if (!event) return `no stored event ${line.eventId}`;
    if (event.decision !== 'granted') return `the stored event is ${event.decision}/${event.reason}`;
    if (event.seq !== line.seq || event.bootId !== bootId) return `the stored event ${line.eventId} is seq ${event.seq} of boot ${event.bootId}`;
    return null;
  }
  // A SIGKILL can fall between the pulse and its decision line; a clean run logs both.
  if (!seen.logged && !seen.killed) return `no logged decision for event ${line.eventId}`;
  return null;
}
