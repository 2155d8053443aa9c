import { existsSync, statfsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { TerminalConfig } from '../config.js';
import { ListCache } from '../listCache.js';
import { listsDbPath } from '../lists/listsDb.js';
import { terminalDbPath } from '../terminalDb.js';
import { fail, pass, skip, type CheckResult } from './report.js';

/** Below this a terminal cannot take the next 1,000,000-entry snapshot (~33 MB file + ~50 MB of WAL). */
const minFreeBytes = 200 * 1024 * 1024;

export interface StateCheckDeps {
  readonly nowMs: number;
  /** gateway/uplink/clockSync.ts systemdClockSynced: true, false, or null when it cannot be known. */
  readonly clockSynced: () => boolean | null;
  readonly freeBytes?: (dir: string) => number;
}

/** What the terminal's own files and the OS say: clock, lists, disk, outbox. Read-only. */
export function stateChecks(config: TerminalConfig, deps: StateCheckDeps): CheckResult[] {
  return [clockCheck(deps.clockSynced()), ...listChecks(config, deps.nowMs), diskCheck(config.dataDir, deps.freeBytes ?? freeBytesOf), outboxCheck(config.dataDir)];
}

function clockCheck(synced: boolean | null): CheckResult {
  if (synced === true) return pass('clock', 'synchronised (systemd-timesyncd)');
  if (synced === false) return fail('clock', 'not synchronised: check the network and NTP (timedatectl status)');
  return skip('clock', 'cannot tell: no systemd-timesyncd on this machine');
}

function listChecks(config: TerminalConfig, nowMs: number): CheckResult[] {
  if (!existsSync(listsDbPath(config.dataDir))) return config.lists.map((scope) => fail(`list ${scope}`, 'none installed yet'));
  const cache = new ListCache(config.dataDir);
  try {
    const installed = cache.installed();
    return config.lists.map((scope) => {
      const list = installed.get(scope);
      if (!list) return fail(`list ${scope}`, 'none installed yet');
      const age = `version ${list.version}, issued ${duration(nowMs - list.issuedAtMs)} ago`;
      if (nowMs >= list.expiresAtMs) return fail(`list ${scope}`, `${age}, EXPIRED ${duration(nowMs - list.expiresAtMs)} ago`);
      return pass(`list ${scope}`, `${age}, ${list.entryCount} entries, expires in ${duration(list.expiresAtMs - nowMs)}`);
    });
  } finally {
    cache.close();
  }
}

function diskCheck(dataDir: string, freeBytes: (dir: string) => number): CheckResult {
  const free = freeBytes(dataDir);
  const text = `${(free / 1024 / 1024).toFixed(0)} MB free in ${dataDir}`;
  return free >= minFreeBytes ? pass('disk', text) : fail('disk', `${text}: at least ${minFreeBytes / 1024 / 1024} MB needed`);
}

function outboxCheck(dataDir: string): CheckResult {
  if (!existsSync(terminalDbPath(dataDir))) return pass('outbox', 'empty (no decision recorded yet)');
  const db = new Database(terminalDbPath(dataDir), { readonly: true });
  try {
    const { n } = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox').get()!;
    return pass('outbox', n === 0 ? 'empty: every decision reached the central' : `${n} decision(s) waiting for the central`);
  } finally {
    db.close();
  }
}

function freeBytesOf(dir: string): number {
  const stats = statfsSync(existsSync(dir) ? dir : '/');
  return stats.bavail * stats.bsize;
}

function duration(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}
