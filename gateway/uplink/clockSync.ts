import { existsSync } from 'node:fs';

export interface ClockSyncPaths {
  /** systemd-timesyncd creates it once the clock is synchronised (systemd >= 239). */
  readonly flag: string;
  /** Exists while systemd-timesyncd runs: without the flag there, the clock is not synced yet. */
  readonly runDir: string;
}

const systemdPaths: ClockSyncPaths = {
  flag: '/run/systemd/timesync/synchronized',
  runDir: '/run/systemd/timesync',
};

/**
 * Whether the OS says the wall clock is synchronised (STYLE.md "Known traps": a Pi
 * without network boots with a wrong clock). Two stat calls, cheap enough for every
 * heartbeat; no process spawned. Null where it cannot be known (no systemd-timesyncd:
 * chrony, a laptop, a container).
 */
export function systemdClockSynced(paths: ClockSyncPaths = systemdPaths): boolean | null {
  if (existsSync(paths.flag)) return true;
  return existsSync(paths.runDir) ? false : null;
}
