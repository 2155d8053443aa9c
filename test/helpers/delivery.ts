import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { getJson, storedEvents, type CentralApi, type Fleet } from './centralApi.js';
import type { CentralSite } from './centralSite.js';
import type { LogLine, QrgateProcess } from './qrgateProcess.js';

/** Reads a terminal's database read-only (safe while the terminal runs: WAL). */
function readTerminalDb<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'terminal.db'), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Rows still in a terminal's outbox. */
export const outboxDepth = (dataDir: string): number =>
  readTerminalDb(dataDir, (db) => db.prepare<[], number>('SELECT count(*) FROM outbox').pluck().get()!);

/** The last sequence number a terminal handed out (its persisted counter). */
export const lastSeq = (dataDir: string): number =>
  readTerminalDb(dataDir, (db) => db.prepare<[], number>("SELECT value FROM meta WHERE key = 'seq'").pluck().get()!);

/** Exactly once: seq 1..n, each event stored once, and the central reports no gap. */
export async function expectExactlyOnce(api: CentralApi, terminalId: string, decided: number): Promise<void> {
  const events = await storedEvents(api, terminalId);
  const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
  expect(seqs).toEqual(Array.from({ length: decided }, (_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(decided);
  const fleet = await getJson<Fleet>(api, '/api/terminals');
  expect(fleet.terminals.find((t) => t.terminalId === terminalId)).toMatchObject({ lastSeq: decided, gaps: [] });
}

/**
 * Types `count` scans into a running terminal's keyboard lane and waits until it has decided
 * `already + count` in this run; returns that total.
 */
export async function typeScans(terminal: QrgateProcess, site: Pick<CentralSite, 'people'>, count: number, already: number): Promise<number> {
  for (let i = 0; i < count; i++) {
    // every tenth person is a stranger: refused events must arrive too
    const id = i % 10 === 9 ? `0461${String(10_000_000 + i)}` : site.people[i % site.people.length]!;
    terminal.stdin.write(`${id}\n`);
  }
  await terminal.waitForCount('scan.decided', already + count, 60_000);
  return already + count;
}

/** Types one scan (a QR text or an ID number) at a running terminal's keyboard lane and returns the decision it logged. */
export async function scanOnce(terminal: QrgateProcess, text: string): Promise<LogLine> {
  const before = terminal.linesWith('scan.decided').length;
  terminal.stdin.write(`${text}\n`);
  const lines = await terminal.waitForCount('scan.decided', before + 1);
  return lines[before]!;
}
