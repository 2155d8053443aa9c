import type { AlarmThresholds } from '../config.js';
import { expiresWithin, lagsBehind, runningLists } from '../lists/listHealth.js';
import type { ScopeVersions } from '../lists/listVersions.js';
import type { FleetTerminal, SequenceGap } from '../store/centralStore.js';
import { missingSeqCount } from '../store/sequenceGaps.js';
import { msToIso } from '../store/time.js';

/**
 * The overview's alarms (issue 14 point 1): what needs a person now, computed from what the
 * central already knows (the fleet with its telemetry and sequence gaps, the published
 * lists) and the time. Pure: the same inputs give the same alarms, so the console, the API
 * and the tests agree, and nothing has to run in the background to raise or clear one.
 *
 * An alarm's `id` names one occurrence of a condition: the kind, the subject and a token
 * that holds still while the condition lasts and changes when it clears and comes back
 * (the terminal's last sign of life for an offline one, the version for a list). An
 * acknowledgement is kept against that id (alarmAcks.ts), so an alarm that clears and
 * happens again comes back as new.
 */

export const alarmKinds = ['storage-failing', 'terminal-offline', 'list-expiring', 'list-lagging', 'sequence-gap', 'clock-untrusted'] as const;
export type AlarmKind = (typeof alarmKinds)[number];

/** `critical`: scans are being lost or refused now, or will be without action; `warning`: something to look into. */
export type AlarmSeverity = 'critical' | 'warning';

export interface AlarmSubject {
  readonly terminalId?: string;
  readonly checkpointCode?: string;
  readonly scope?: string;
}

interface AlarmBase<K extends AlarmKind, D> {
  readonly id: string;
  readonly kind: K;
  readonly severity: AlarmSeverity;
  readonly subject: AlarmSubject;
  /** When the condition began as the data tells it, ISO 8601; null when the data does not say (a gap, a clock). */
  readonly since: string | null;
  readonly details: D;
}

export type Alarm =
  | AlarmBase<'storage-failing', { readonly error: string | null; readonly failures: number }>
  | AlarmBase<'terminal-offline', { readonly lastSeenAt: string }>
  /** On the central (no terminalId): the newest published version; on a terminal: a list this central did not publish. */
  | AlarmBase<'list-expiring', { readonly version: number | null; readonly expiresAt: string; readonly expired: boolean }>
  | AlarmBase<'list-lagging', { readonly running: number | null; readonly latest: number; readonly runningExpired: boolean }>
  /** `missing`: how many sequence numbers; `ranges`: the first few, inclusive. */
  | AlarmBase<'sequence-gap', { readonly missing: number; readonly ranges: readonly { readonly fromSeq: number; readonly toSeq: number }[] }>
  | AlarmBase<'clock-untrusted', { readonly clockSynced: boolean | null }>;

export interface AlarmInputs {
  /** store.fleet(): removed terminals and those at retired checkpoints raise nothing. */
  readonly terminals: readonly FleetTerminal[];
  /** store.gaps(), every terminal's. */
  readonly gaps: readonly SequenceGap[];
  /** publishedVersions(): each scope's versions, newest first. */
  readonly lists: readonly ScopeVersions[];
  readonly nowMs: number;
  readonly thresholds: AlarmThresholds;
}

const rangesShown = 5;

function terminalSubject(terminal: FleetTerminal, scope?: string): AlarmSubject {
  return { terminalId: terminal.terminalId, checkpointCode: terminal.checkpointCode, ...(scope === undefined ? {} : { scope }) };
}

function terminalAlarms(terminal: FleetTerminal, gaps: readonly SequenceGap[], latestOf: ReadonlyMap<string, ScopeVersions['versions'][number]>, inputs: AlarmInputs): Alarm[] {
  const { nowMs, thresholds } = inputs;
  const id = terminal.terminalId;
  const out: Alarm[] = [];
  // Never seen is not "offline": it is a terminal being installed (the fleet page says "never connected").
  if (!terminal.online && terminal.lastSeenAt !== null && nowMs - Date.parse(terminal.lastSeenAt) >= thresholds.offlineAfterS * 1000) {
    out.push({ id: `terminal-offline:${id}:${Date.parse(terminal.lastSeenAt)}`, kind: 'terminal-offline', severity: 'critical', subject: terminalSubject(terminal), since: terminal.lastSeenAt, details: { lastSeenAt: terminal.lastSeenAt } });
  }
  const telemetry = terminal.telemetry;
  if (telemetry?.storage !== undefined && !telemetry.storage.writable) {
    const { since, error, failures } = telemetry.storage;
    // `since` holds while the database refuses writes and is reset when it recovers (gateway/storageHealth.ts).
    out.push({ id: `storage-failing:${id}:${since ?? telemetry.bootId}`, kind: 'storage-failing', severity: 'critical', subject: terminalSubject(terminal), since, details: { error, failures } });
  }
  if (telemetry !== null && !telemetry.clockTrusted) {
    out.push({ id: `clock-untrusted:${id}:${telemetry.bootId}`, kind: 'clock-untrusted', severity: 'warning', subject: terminalSubject(terminal), since: null, details: { clockSynced: telemetry.clockSynced } });
  }
  if (gaps.length > 0) {
    // The newest gap's end names the occurrence: late events usually fill a gap from its start,
    // and a gap opening further on is more lost events, worth a new look.
    const newest = gaps.reduce((a, b) => (b.toSeq > a.toSeq ? b : a));
    const ranges = [...gaps].sort((a, b) => a.fromSeq - b.fromSeq).slice(0, rangesShown).map(({ fromSeq, toSeq }) => ({ fromSeq, toSeq }));
    out.push({ id: `sequence-gap:${id}:${newest.toSeq}`, kind: 'sequence-gap', severity: 'warning', subject: terminalSubject(terminal), since: null, details: { missing: missingSeqCount(gaps), ranges } });
  }
  const windowMs = thresholds.listExpiryWarningHours * 3600 * 1000;
  for (const running of runningLists([terminal])) {
    const latest = latestOf.get(running.scope);
    const runningExpired = running.stale || (running.expiresAt !== null && Date.parse(running.expiresAt) <= nowMs);
    if (latest === undefined) {
      // A list this central never published (built by hand): only the terminal can say when it ends.
      if (running.expiresAt !== null && expiresWithin(running.expiresAt, nowMs, windowMs)) {
        out.push({
          id: `list-expiring:${id}/${running.scope}:v${running.version}`,
          kind: 'list-expiring',
          severity: runningExpired ? 'critical' : 'warning',
          subject: terminalSubject(terminal, running.scope),
          since: msToIso(Date.parse(running.expiresAt) - windowMs),
          details: { version: running.version, expiresAt: running.expiresAt, expired: runningExpired },
        });
      }
      continue;
    }
    const publishedMs = Date.parse(latest.publishedAt);
    if (lagsBehind(running, latest) && nowMs - publishedMs >= thresholds.listLagAfterS * 1000) {
      out.push({
        id: `list-lagging:${id}/${running.scope}:v${latest.version}`,
        kind: 'list-lagging',
        severity: runningExpired ? 'critical' : 'warning',
        subject: terminalSubject(terminal, running.scope),
        since: latest.publishedAt,
        details: { running: running.version, latest: latest.version, runningExpired },
      });
    }
  }
  return out;
}

/** A scope's newest published version nearing its expiry: every terminal on it will follow. */
function publishedAlarms(scope: ScopeVersions, inputs: AlarmInputs): Alarm[] {
  const latest = scope.versions[0];
  const windowMs = inputs.thresholds.listExpiryWarningHours * 3600 * 1000;
  if (latest === undefined || !expiresWithin(latest.expiresAt, inputs.nowMs, windowMs)) return [];
  const expired = Date.parse(latest.expiresAt) <= inputs.nowMs;
  const since = Math.max(Date.parse(latest.publishedAt), Date.parse(latest.expiresAt) - windowMs);
  return [
    {
      id: `list-expiring:${scope.scope}:v${latest.version}`,
      kind: 'list-expiring',
      severity: expired ? 'critical' : 'warning',
      subject: { scope: scope.scope },
      since: msToIso(since),
      details: { version: latest.version, expiresAt: latest.expiresAt, expired },
    },
  ];
}

const severityRank: Record<AlarmSeverity, number> = { critical: 0, warning: 1 };
const kindRank = new Map<AlarmKind, number>(alarmKinds.map((kind, i) => [kind, i]));

/** Most severe first; within a severity by kind (alarmKinds' order), then the oldest first, then by id. */
export function compareAlarms(a: Alarm, b: Alarm): number {
  return (
    severityRank[a.severity] - severityRank[b.severity] ||
    kindRank.get(a.kind)! - kindRank.get(b.kind)! ||
    (a.since === null ? 1 : 0) - (b.since === null ? 1 : 0) ||
    (a.since !== null && b.since !== null ? Date.parse(a.since) - Date.parse(b.since) : 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function computeAlarms(inputs: AlarmInputs): Alarm[] {
  const gapsOf = new Map<string, SequenceGap[]>();
  for (const gap of inputs.gaps) {
    const list = gapsOf.get(gap.terminalId);
    if (list) list.push(gap);
    else gapsOf.set(gap.terminalId, [gap]);
  }
  const latestOf = new Map(inputs.lists.flatMap((scope) => (scope.versions[0] === undefined ? [] : [[scope.scope, scope.versions[0]] as const])));
  const live = inputs.terminals.filter((terminal) => !terminal.removed && !terminal.checkpointRetired);
  return [...live.flatMap((terminal) => terminalAlarms(terminal, gapsOf.get(terminal.terminalId) ?? [], latestOf, inputs)), ...inputs.lists.flatMap((scope) => publishedAlarms(scope, inputs))].sort(compareAlarms);
}
