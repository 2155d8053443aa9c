import type { FleetTerminal } from '../store/centralStore.js';
import type { PublishedVersion } from './listVersions.js';

/**
 * What the central can tell about a scope's list from what it published and what terminals
 * report in telemetry: the console's lists page warns with these, and the overview's alarms
 * (broker/alarms/alarms.ts) are raised from them, so both say the same thing.
 */

/** One terminal's copy of a scope's list, as its last telemetry said. */
export interface RunningList {
  readonly terminal: FleetTerminal;
  readonly scope: string;
  /** Null: the terminal has no list of this scope yet. */
  readonly version: number | null;
  readonly ageS: number | null;
  readonly expiresAt: string | null;
  /** The terminal's own verdict: its clock is past the list's expiry. */
  readonly stale: boolean;
}

/** Every terminal's reported copy of `scope`, or of every scope when none is given. */
export function runningLists(terminals: readonly FleetTerminal[], scope?: string): RunningList[] {
  return terminals.flatMap((terminal) =>
    (terminal.telemetry?.lists ?? [])
      .filter((list) => scope === undefined || list.scope === scope)
      .map((list) => ({ terminal, scope: list.scope, version: list.version, ageS: list.ageS, expiresAt: list.expiresAt, stale: list.stale })),
  );
}

/** The copy is older than the newest published version, or there is none yet. */
export function lagsBehind(running: Pick<RunningList, 'version'>, latest: Pick<PublishedVersion, 'version'>): boolean {
  return running.version === null || running.version < latest.version;
}

/** The expiry is at most `windowMs` away, or already past. */
export function expiresWithin(expiresAt: string, nowMs: number, windowMs: number): boolean {
  return Date.parse(expiresAt) - nowMs < windowMs;
}
