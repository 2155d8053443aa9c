import { describe, expect, it } from 'vitest';
import { computeAlarms, type Alarm, type AlarmInputs } from '../../../broker/alarms/alarms.js';
import { alarmsSchema } from '../../../broker/config.js';
import type { ScopeVersions } from '../../../broker/lists/listVersions.js';
import type { FleetTerminal, SequenceGap } from '../../../broker/store/centralStore.js';
import type { Telemetry } from '../../../protocol/messages.js';

/**
 * broker/alarms/alarms.ts: each kind is raised by the condition it names and cleared when the
 * condition ends; an alarm's id holds still while its condition lasts and changes when the
 * condition clears and comes back, so an acknowledgement does not outlive its occurrence.
 */

const T0 = Date.parse('2026-12-03T08:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();
const thresholds = alarmsSchema.parse({});
const boot = '0193a1b2-0000-4000-8000-000000000001';

function telemetry(changes: Partial<Telemetry> = {}): Telemetry {
  return {
    v: 1,
    bootId: boot,
    at: iso(T0),
    uptimeS: 100,
    outboxDepth: 0,
    inFlight: 0,
    lists: [{ scope: 'site-a', version: 3, ageS: 3600, expiresAt: iso(T0 + 3 * 24 * HOUR), stale: false }],
    scanners: [{ lane: 'in', connected: true }],
    clockTrusted: true,
    clockSynced: true,
    storage: { writable: true, error: null, since: null, failures: 0 },
    ...changes,
  };
}

function terminal(changes: Partial<FleetTerminal> = {}): FleetTerminal {
  return {
    terminalId: 'gate-a-1',
    checkpointCode: '10000000000008',
    online: true,
    lastSeenAt: iso(T0 - 10_000),
    bootId: boot,
    telemetry: telemetry(),
    lastSeq: 40,
    gaps: [],
    removed: false,
    checkpointRetired: false,
    ...changes,
  };
}

function published(version: number, publishedMs: number, expiresMs: number, scope = 'site-a'): ScopeVersions {
  return { scope, versions: [{ version, issuedAt: iso(publishedMs), publishedAt: iso(publishedMs), expiresAt: iso(expiresMs), entryCount: 10, deltaCount: null }] };
}

const healthyList = published(3, T0 - 2 * HOUR, T0 + 3 * 24 * HOUR);

function alarms(changes: Partial<AlarmInputs> = {}): Alarm[] {
  return computeAlarms({ terminals: [terminal()], gaps: [], lists: [healthyList], nowMs: T0, thresholds, ...changes });
}

describe('computeAlarms', () => {
  it('raises nothing for a healthy site', () => {
    expect(alarms()).toEqual([]);
  });

  it('raises terminal-offline once a terminal has been silent past the threshold, with its last sign of life as since, and clears when it is back', () => {
    const lastSeen = T0 - 5 * MIN;
    const offline = terminal({ online: false, lastSeenAt: iso(lastSeen) });
    expect(alarms({ terminals: [offline], nowMs: lastSeen + 5 * MIN - 1 })).toEqual([]);
    const raised = alarms({ terminals: [offline] });
    expect(raised).toEqual([
      {
        id: `terminal-offline:gate-a-1:${lastSeen}`,
        kind: 'terminal-offline',
        severity: 'critical',
        subject: { terminalId: 'gate-a-1', checkpointCode: '10000000000008' },
        since: iso(lastSeen),
        details: { lastSeenAt: iso(lastSeen) },
      },
    ]);
    // Still offline an hour later: the same occurrence.
    expect(alarms({ terminals: [offline], nowMs: T0 + HOUR }).map((a) => a.id)).toEqual([raised[0]!.id]);
    // Back online: cleared. Offline again later: a new occurrence.
    expect(alarms({ terminals: [terminal({ online: true, lastSeenAt: iso(T0 + MIN) })], nowMs: T0 + 2 * MIN })).toEqual([]);
    const again = alarms({ terminals: [terminal({ online: false, lastSeenAt: iso(T0 + MIN) })], nowMs: T0 + 20 * MIN });
    expect(again.map((a) => a.id)).toEqual([`terminal-offline:gate-a-1:${T0 + MIN}`]);
  });

  it('takes the threshold from the config, and never calls a terminal that was never seen offline', () => {
    const offline = terminal({ online: false, lastSeenAt: iso(T0 - 30_000) });
    expect(alarms({ terminals: [offline] })).toEqual([]);
    expect(alarms({ terminals: [offline], thresholds: { ...thresholds, offlineAfterS: 30 } }).map((a) => a.kind)).toEqual(['terminal-offline']);
    expect(alarms({ terminals: [terminal({ online: false, lastSeenAt: null, telemetry: null })], nowMs: T0 + 24 * HOUR })).toEqual([]);
  });

  it('raises storage-failing from the terminal’s telemetry, keyed by when the failure began, and clears when it writes again', () => {
    const since = iso(T0 - 3 * MIN);
    const failing = terminal({ telemetry: telemetry({ storage: { writable: false, error: 'SQLITE_FULL', since, failures: 7 } }) });
    const raised = alarms({ terminals: [failing] });
    expect(raised).toEqual([
      expect.objectContaining({ id: `storage-failing:gate-a-1:${since}`, kind: 'storage-failing', severity: 'critical', since, details: { error: 'SQLITE_FULL', failures: 7 } }),
    ]);
    // More refused writes: the same occurrence.
    const worse = terminal({ telemetry: telemetry({ storage: { writable: false, error: 'SQLITE_FULL', since, failures: 70 } }) });
    expect(alarms({ terminals: [worse] }).map((a) => a.id)).toEqual([raised[0]!.id]);
    expect(alarms({ terminals: [terminal()] })).toEqual([]);
    // A terminal from before storage health reports none: no alarm, no error.
    expect(alarms({ terminals: [terminal({ telemetry: telemetry({ storage: undefined }) })] })).toEqual([]);
  });

  it('raises clock-untrusted while the terminal says so, per boot', () => {
    const untrusted = terminal({ telemetry: telemetry({ clockTrusted: false, clockSynced: false }) });
    expect(alarms({ terminals: [untrusted] })).toEqual([
      expect.objectContaining({ id: `clock-untrusted:gate-a-1:${boot}`, kind: 'clock-untrusted', severity: 'warning', since: null, details: { clockSynced: false } }),
    ]);
    expect(alarms({ terminals: [terminal({ telemetry: telemetry({ clockTrusted: true, clockSynced: false }) })] })).toEqual([]);
  });

  it('raises sequence-gap with how many are missing, named by the newest gap, and clears when the late events fill it', () => {
    const gaps: SequenceGap[] = [
      { terminalId: 'gate-a-1', fromSeq: 30, toSeq: 31 },
      { terminalId: 'gate-a-1', fromSeq: 5, toSeq: 9 },
      { terminalId: 'gate-b-1', fromSeq: 1, toSeq: 1 },
    ];
    const raised = alarms({ gaps });
    expect(raised).toEqual([
      expect.objectContaining({
        id: 'sequence-gap:gate-a-1:31',
        kind: 'sequence-gap',
        severity: 'warning',
        details: {
          missing: 7,
          ranges: [
            { fromSeq: 5, toSeq: 9 },
            { fromSeq: 30, toSeq: 31 },
          ],
        },
      }),
    ]);
    // The oldest gap filled: the same occurrence; all filled: cleared; a new gap further on: a new one.
    expect(alarms({ gaps: [gaps[0]!] }).map((a) => a.id)).toEqual(['sequence-gap:gate-a-1:31']);
    expect(alarms({ gaps: [] })).toEqual([]);
    expect(alarms({ gaps: [{ terminalId: 'gate-a-1', fromSeq: 50, toSeq: 52 }] }).map((a) => a.id)).toEqual(['sequence-gap:gate-a-1:52']);
  });

  it('raises list-expiring for the newest published version within the window, critical once past, and clears on a new version', () => {
    const expires = T0 + 20 * HOUR;
    const expiring = published(4, T0 - 30 * HOUR, expires);
    const fresh = terminal({ telemetry: telemetry({ lists: [{ scope: 'site-a', version: 4, ageS: 10, expiresAt: iso(expires), stale: false }] }) });
    const raised = alarms({ terminals: [fresh], lists: [expiring] });
    expect(raised).toEqual([
      {
        id: 'list-expiring:site-a:v4',
        kind: 'list-expiring',
        severity: 'warning',
        subject: { scope: 'site-a' },
        since: iso(expires - 24 * HOUR),
        details: { version: 4, expiresAt: iso(expires), expired: false },
      },
    ]);
    expect(alarms({ terminals: [fresh], lists: [expiring], nowMs: expires }).map((a) => [a.id, a.severity])).toEqual([['list-expiring:site-a:v4', 'critical']]);
    // Outside a 12-hour window: nothing.
    expect(alarms({ terminals: [fresh], lists: [expiring], thresholds: { ...thresholds, listExpiryWarningHours: 12 } })).toEqual([]);
    // v5 published for a week, the terminal on it: cleared.
    const onV5 = terminal({ telemetry: telemetry({ lists: [{ scope: 'site-a', version: 5, ageS: 10, expiresAt: iso(T0 + 7 * 24 * HOUR), stale: false }] }) });
    expect(alarms({ terminals: [onV5], lists: [published(5, T0, T0 + 7 * 24 * HOUR)] })).toEqual([]);
  });

  it('raises list-expiring on a terminal for a list this central never published, from what the terminal reports', () => {
    const expires = T0 - MIN;
    const handBuilt = terminal({ telemetry: telemetry({ lists: [{ scope: 'default', version: 1, ageS: 99_999, expiresAt: iso(expires), stale: true }] }) });
    expect(alarms({ terminals: [handBuilt] })).toEqual([
      expect.objectContaining({
        id: 'list-expiring:gate-a-1/default:v1',
        kind: 'list-expiring',
        severity: 'critical',
        subject: { terminalId: 'gate-a-1', checkpointCode: '10000000000008', scope: 'default' },
        details: { version: 1, expiresAt: iso(expires), expired: true },
      }),
    ]);
  });

  it('raises list-lagging when a terminal still runs an older version after the grace, and clears when it catches up', () => {
    const v4 = published(4, T0 - 11 * MIN, T0 + 7 * 24 * HOUR);
    expect(alarms({ lists: [v4], nowMs: T0 - 2 * MIN })).toEqual([]);
    expect(alarms({ lists: [v4] })).toEqual([
      expect.objectContaining({
        id: 'list-lagging:gate-a-1/site-a:v4',
        kind: 'list-lagging',
        severity: 'warning',
        subject: { terminalId: 'gate-a-1', checkpointCode: '10000000000008', scope: 'site-a' },
        since: iso(T0 - 11 * MIN),
        details: { running: 3, latest: 4, runningExpired: false },
      }),
    ]);
    const caughtUp = terminal({ telemetry: telemetry({ lists: [{ scope: 'site-a', version: 4, ageS: 1, expiresAt: iso(T0 + 7 * 24 * HOUR), stale: false }] }) });
    expect(alarms({ terminals: [caughtUp], lists: [v4] })).toEqual([]);
    // No list at all yet counts as behind; a stale one makes it critical.
    const none = terminal({ telemetry: telemetry({ lists: [{ scope: 'site-a', version: null, ageS: null, expiresAt: null, stale: false }] }) });
    expect(alarms({ terminals: [none], lists: [v4] }).map((a) => [a.kind, a.severity])).toEqual([['list-lagging', 'warning']]);
    const stale = terminal({ telemetry: telemetry({ lists: [{ scope: 'site-a', version: 2, ageS: 1, expiresAt: iso(T0 - HOUR), stale: true }] }) });
    expect(alarms({ terminals: [stale], lists: [v4] }).map((a) => [a.kind, a.severity])).toEqual([['list-lagging', 'critical']]);
  });

  it('ignores removed terminals and those at retired checkpoints', () => {
    const offline = { online: false, lastSeenAt: iso(T0 - HOUR) };
    expect(alarms({ terminals: [terminal({ ...offline, removed: true }), terminal({ ...offline, terminalId: 'gate-b', checkpointRetired: true })] })).toEqual([]);
  });

  it('puts the most severe first, then by kind, then the oldest', () => {
    const raised = alarms({
      terminals: [
        terminal({ terminalId: 'a', telemetry: telemetry({ clockTrusted: false }) }),
        terminal({ terminalId: 'b', online: false, lastSeenAt: iso(T0 - HOUR) }),
        terminal({ terminalId: 'c', online: false, lastSeenAt: iso(T0 - 2 * HOUR) }),
        terminal({ terminalId: 'd', telemetry: telemetry({ storage: { writable: false, error: 'SQLITE_IOERR', since: iso(T0), failures: 1 } }) }),
      ],
      gaps: [{ terminalId: 'a', fromSeq: 1, toSeq: 2 }],
      lists: [healthyList, published(1, T0 - 2 * 24 * HOUR, T0 + HOUR, 'phu-hoi')],
    });
    expect(raised.map((a) => `${a.severity} ${a.kind} ${a.subject.terminalId ?? a.subject.scope}`)).toEqual([
      'critical storage-failing d',
      'critical terminal-offline c',
      'critical terminal-offline b',
      'warning list-expiring phu-hoi',
      'warning sequence-gap a',
      'warning clock-untrusted a',
    ]);
  });
});
