import { describe, expect, it, vi } from 'vitest';
import { TerminalClock } from '../../gateway/clock.js';
import { Outbox, StorageFullError } from '../../gateway/outbox.js';
import { StorageHealth } from '../../gateway/storageHealth.js';
import { openTerminalDb, type TerminalDb } from '../../gateway/terminalDb.js';
import { captureLogger } from '../fakes/captureLogger.js';
import { useTempDir } from '../helpers/tempDir.js';
import { draft } from './uplink/rig.js';

/** The outbox on a full disk: what the lane is told, and what the sequence keeps (issue 13). */
describe('Outbox on a full database', () => {
  const tempDir = useTempDir();

  function open(health?: StorageHealth) {
    const db = openTerminalDb(tempDir());
    const outbox = new Outbox(db, { terminalId: 'gate-1', checkpointCode: '10000000000008', bootId: crypto.randomUUID() }, new TerminalClock(db), health);
    return { db, outbox };
  }

  /** Records until SQLite says SQLITE_FULL (the file may not grow past its current pages). */
  function fillUp(db: TerminalDb, outbox: Outbox): { recorded: number; error: unknown } {
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    for (let recorded = 0; recorded < 100_000; recorded++) {
      try {
        outbox.record(draft);
      } catch (error) {
        return { recorded, error };
      }
    }
    throw new Error('the database never filled up');
  }

  it('names a full disk StorageFullError, keeps the cause, and hands out no sequence number for it', () => {
    const { logger } = captureLogger();
    const health = new StorageHealth({ logger });
    const { db, outbox } = open(health);
    const { recorded, error } = fillUp(db, outbox);
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error).toMatchObject({ code: 'storage-full', name: 'StorageFullError', message: expect.stringContaining('disk full') });
    expect((error as StorageFullError).cause).toMatchObject({ code: 'SQLITE_FULL' });
    expect(health.telemetry()).toMatchObject({ writable: false, error: 'SQLITE_FULL' });
    // An empty removal wrote nothing: it is no sign that the disk recovered.
    expect(outbox.remove([])).toBe(0);
    expect(health.telemetry().writable).toBe(false);

    db.pragma('max_page_count = 1073741823');
    const next = outbox.record(draft);
    expect(next.seq).toBe(recorded + 1);
    expect(health.telemetry().writable).toBe(true);
    db.close();
  });

  it('says the same without a storage alarm attached', () => {
    const { db, outbox } = open();
    expect(fillUp(db, outbox).error).toBeInstanceOf(StorageFullError);
    db.close();
  });

  it('passes any other failure through as it is', () => {
    const { db, outbox } = open();
    db.close();
    let thrown: unknown;
    try {
      outbox.record(draft);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(StorageFullError);
  });

  it('reports a failing ready listener as a named warning', () => {
    const { db, outbox } = open();
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    outbox.onReady(() => {
      throw 'not an Error';
    });
    outbox.record(draft);
    expect(warning).toHaveBeenCalledWith(expect.objectContaining({ message: 'not an Error' }), { code: 'QRGATE_OUTBOX_LISTENER' });
    warning.mockRestore();
    db.close();
  });
});
