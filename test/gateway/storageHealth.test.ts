import { describe, expect, it } from 'vitest';
import { TerminalClock } from '../../gateway/clock.js';
import { Outbox } from '../../gateway/outbox.js';
import { StorageHealth } from '../../gateway/storageHealth.js';
import { openTerminalDb } from '../../gateway/terminalDb.js';
import { telemetrySchema } from '../../protocol/messages.js';
import { captureLogger } from '../fakes/captureLogger.js';
import { useTempDir } from '../helpers/tempDir.js';
import { draft } from './uplink/rig.js';

describe('StorageHealth', () => {
  const tempDir = useTempDir();

  it('raises one alarm per episode of failed writes and reports the recovery', () => {
    const { logger, messages } = captureLogger();
    let nowMs = Date.parse('2026-03-01T08:00:00Z');
    const health = new StorageHealth({ logger, nowMs: () => nowMs });
    expect(health.telemetry()).toEqual({ writable: true, error: null, since: null, failures: 0 });

    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    health.failed(full);
    nowMs += 5_000;
    health.failed(full);
    health.failed(full);
    expect(messages('storage.write-failed')).toHaveLength(1);
    expect(messages('storage.write-failed')[0]).toMatchObject({ level: 50, code: 'SQLITE_FULL' });
    expect(health.writable).toBe(false);
    expect(health.telemetry()).toEqual({ writable: false, error: 'SQLITE_FULL', since: '2026-03-01T08:00:00.000Z', failures: 3 });

    nowMs += 1_000;
    health.wrote();
    health.wrote();
    expect(messages('storage.recovered')).toEqual([expect.objectContaining({ code: 'SQLITE_FULL', failures: 3, durationMs: 6_000 })]);
    expect(health.telemetry().writable).toBe(true);
  });

  it('hears every outbox write, and its telemetry passes the shared schema', () => {
    const { logger, messages } = captureLogger();
    const health = new StorageHealth({ logger });
    const db = openTerminalDb(tempDir());
    const outbox = new Outbox(db, { terminalId: 'gate-1', checkpointCode: '10000000000008', bootId: crypto.randomUUID() }, new TerminalClock(db), health);
    outbox.record(draft);
    db.close(); // any write now fails, as on a dead disk
    expect(() => outbox.record(draft)).toThrow();
    expect(() => outbox.remove([1])).toThrow();
    expect(health.telemetry()).toMatchObject({ writable: false, failures: 2 });
    expect(messages('storage.write-failed')).toHaveLength(1);
    const telemetry = {
      v: 1,
      bootId: crypto.randomUUID(),
      at: new Date().toISOString(),
      uptimeS: 1,
      outboxDepth: 1,
      inFlight: 0,
      lists: [],
      scanners: [],
      clockTrusted: true,
      clockSynced: null,
      storage: health.telemetry(),
    };
    expect(telemetrySchema.safeParse(telemetry).success).toBe(true);
  });
});
