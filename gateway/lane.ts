import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DigitalInput, Level } from '../hardware/gpio/gpio.js';
import type { ScanFrame, Scanner } from '../hardware/scanners/scanner.js';
import { parseCredential } from '../protocol/credentials/index.js';
import { refToHex, type RefHasher } from '../protocol/credentialRef.js';
import { uuidv7 } from '../protocol/uuidv7.js';
import { withLogLinesHeld } from '../protocol/heldLogLines.js';
import type { CredentialTypeOrUnknown, Decision, Reason, ScanEvent } from '../protocol/event.js';
import type { TerminalClock } from './clock.js';
import type { LaneConfig, TerminalConfig } from './config.js';
import { allOff, clearIndicators, showGranted, showPending, showRefused, type LaneSignals } from './feedback.js';
import type { ListCache } from './listCache.js';
import type { PendingBoard } from './pendingBoard.js';
import { StorageFullError, type Outbox } from './outbox.js';
import { decide, strictestEntry, type ListState } from './policy.js';
import type { Presence } from './presence.js';
import { RecentScans } from './recentScans.js';

export interface LaneInputs {
  readonly confirm?: DigitalInput;
  readonly reject?: DigitalInput;
  readonly passage?: DigitalInput;
}

export interface LaneDeps {
  readonly config: LaneConfig;
  readonly policy: TerminalConfig['policy'];
  readonly scopes: readonly string[];
  readonly scanner: Scanner;
  readonly signals: LaneSignals;
  readonly inputs: LaneInputs;
  readonly outbox: Outbox;
  readonly lists: ListCache;
  readonly presence: Presence;
  readonly clock: TerminalClock;
  readonly hashRef: RefHasher;
  readonly logger: Logger;
  /** Told of each scan held for the operator and of its end (for the central's guard screen). */
  readonly pendingBoard?: PendingBoard;
}

/** Who answered from the central, and the typed reason of a remote open: both go into the event. */
export interface RemoteAnswer {
  readonly by?: string | undefined;
  readonly note?: string | undefined;
}

/** What the lane knows about a scan once the credential is read. */
interface Scan {
  readonly debounceKey: string;
  readonly ref: Buffer | null;
  /** The ref as events carry it, computed once per scan. */
  readonly refHex: string | null;
  readonly credentialType: CredentialTypeOrUnknown;
  readonly lastByteAtNs: bigint | null;
}

interface PendingScan {
  /** The decided event's id, and the pending scan's name at the central until then. */
  readonly id: string;
  readonly scan: Scan;
  readonly listVersion: number | null;
  readonly passback: boolean;
  readonly timer: NodeJS.Timeout;
}

interface AwaitingPassage {
  readonly eventId: string;
  readonly ref: Buffer | null;
  readonly timer: NodeJS.Timeout;
}

/** What an event records besides the scan and the decision. */
interface RecordContext extends RemoteAnswer {
  readonly listVersion: number | null;
  readonly passback: boolean;
  /** A pending scan's id, which the event keeps. */
  readonly id?: string;
}

const elapsedMs = (fromNs: bigint): number => Number(process.hrtime.bigint() - fromNs) / 1e6;

/**
 * One lane: a scanner, a direction, its outputs and inputs. Turns each frame into exactly
 * one recorded decision, recorded before any output moves (DESIGN.md "The scan path").
 */
export class Lane {
  private readonly recent: RecentScans;
  private pending: PendingScan | null = null;
  private readonly awaitingPassage: AwaitingPassage[] = [];
  private started = false;
  private readonly onFrame = (frame: ScanFrame): void => this.guard(() => this.handleFrame(frame));
  private readonly onConfirm = (level: Level, atNs: bigint): void => {
    if (level === 1) this.guard(() => this.resolvePending('granted', 'confirmed', atNs, {}));
  };
  private readonly onReject = (level: Level, atNs: bigint): void => {
    if (level === 1) this.guard(() => this.resolvePending('refused', 'rejected', atNs, {}));
  };
  private readonly onPassage = (level: Level): void => {
    if (level === 1) this.guard(() => this.settleOldestPassage(true));
  };
  private readonly onScannerUp = (): void => this.deps.logger.info('scanner.connected');
  private readonly onScannerDown = (reason: string): void => this.deps.logger.warn({ reason }, 'scanner.disconnected');

  constructor(private readonly deps: LaneDeps) {
    this.recent = new RecentScans(deps.policy.debounceMs);
  }

  get name(): string {
    return this.deps.config.name;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { scanner, inputs } = this.deps;
    allOff(this.deps.signals);
    scanner.on('frame', this.onFrame);
    scanner.on('connected', this.onScannerUp);
    scanner.on('disconnected', this.onScannerDown);
    inputs.confirm?.on('change', this.onConfirm);
    inputs.reject?.on('change', this.onReject);
    inputs.passage?.on('change', this.onPassage);
    await scanner.start();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const { scanner, inputs } = this.deps;
    scanner.off('frame', this.onFrame);
    scanner.off('connected', this.onScannerUp);
    scanner.off('disconnected', this.onScannerDown);
    inputs.confirm?.off('change', this.onConfirm);
    inputs.reject?.off('change', this.onReject);
    inputs.passage?.off('change', this.onPassage);
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null; // never decided, never actuated: nothing to record
    for (const waiting of this.awaitingPassage.splice(0)) clearTimeout(waiting.timer);
    allOff(this.deps.signals);
    await scanner.stop();
  }

  /**
   * A lane must keep deciding after one bad frame: a failure is logged, never thrown to the
   * scanner. The decision's log lines are held until it is done (protocol/heldLogLines.ts):
   * writing them one by one between the scan and the gate moving handed the CPU to the
   * log's reader in the middle of the scan.
   */
  private guard(work: () => void): void {
    withLogLinesHeld(this.deps.logger, () => {
      try {
        work();
      } catch (err) {
        // A full disk is expected in the field: the person is refused, the gate stays shut,
        // and the terminal's storage alarm (terminal.ts) says the rest once.
        if (err instanceof StorageFullError) this.deps.logger.warn({ reason: 'storage-full' }, 'scan.unrecorded');
        else this.deps.logger.error({ err }, 'lane.failed');
        try {
          showRefused(this.deps.signals);
        } catch {
          // the outputs themselves failed; the relay-safety hook still covers the gate
        }
      }
    });
  }

  private readScan(frame: ScanFrame): Scan {
    const parsed = frame.problem ? null : parseCredential(frame.text, { typed: frame.source === 'keyboard' });
    if (!parsed?.ok) {
      // Info, not debug: a run of these is how a dirty window or a misconfigured scanner
      // shows in the field. By problem and length only: the text may hold a raw ID number,
      // and the parser's detail describes shape (field counts, lengths), never content.
      this.deps.logger.info(
        { problem: frame.problem ?? 'not-a-credential', ...(parsed ? { detail: parsed.detail } : {}), bytes: frame.byteLength, source: frame.source },
        'scan.malformed',
      );
      // Debounce garbage too, by a hash of it: a smudged card on the glass must not buzz forever.
      const digest = createHash('sha256').update(frame.text).digest('hex');
      return { debounceKey: `x:${digest}`, ref: null, refHex: null, credentialType: 'unknown', lastByteAtNs: frame.lastByteAtNs };
    }
    const { credential } = parsed;
    const ref = this.deps.hashRef(credential.namespace, credential.id);
    const refHex = refToHex(ref);
    return { debounceKey: refHex, ref, refHex, credentialType: credential.type, lastByteAtNs: frame.lastByteAtNs };
  }

  private handleFrame(frame: ScanFrame): void {
    const scan = this.readScan(frame);
    const { ms: nowMs } = this.deps.clock.now();
    const repeatsPending = this.pending?.scan.debounceKey === scan.debounceKey;
    if (this.recent.seen(scan.debounceKey, nowMs) || repeatsPending) {
      this.recordOnly(scan, 'duplicate', 'debounce');
      return;
    }
    if (this.pending) {
      // One person at a time in front of the operator: the waiting scan keeps its place and
      // its amber signal; the newcomer is recorded as refused without disturbing either.
      this.recordOnly(scan, 'refused', 'lane-busy');
      return;
    }
    if (!scan.ref) {
      this.finish(scan, 'refused', 'malformed', { listVersion: null, passback: false });
      return;
    }
    const { state, fallbackVersion } = this.listState(nowMs);
    const entries = this.deps.lists.lookup(scan.ref).filter((e) => this.deps.scopes.includes(e.scope));
    const listVersion = strictestEntry(entries, nowMs)?.listVersion ?? fallbackVersion;
    const verdict = decide(this.deps.config, this.deps.policy, {
      entries,
      listState: state,
      nowMs,
      lastDirection: this.deps.policy.antiPassback === 'off' ? null : this.deps.presence.lastDirection(scan.ref, nowMs),
    });
    switch (verdict.outcome) {
      case 'grant':
        this.finish(scan, 'granted', verdict.reason, { listVersion, passback: verdict.passback });
        return;
      case 'refuse':
        this.finish(scan, 'refused', verdict.reason, { listVersion, passback: verdict.passback });
        return;
      case 'ask-operator':
        this.holdForOperator(scan, listVersion, verdict.passback);
        return;
    }
  }

  private listState(nowMs: number): { state: ListState; fallbackVersion: number | null } {
    const installed = this.deps.lists.installed();
    let state: ListState = 'none';
    let fallbackVersion: number | null = null;
    for (const scope of this.deps.scopes) {
      const list = installed.get(scope);
      if (!list) continue;
      fallbackVersion ??= list.version;
      if (nowMs >= list.expiresAtMs) return { state: 'stale', fallbackVersion };
      state = 'fresh';
    }
    return { state, fallbackVersion };
  }

  private holdForOperator(scan: Scan, listVersion: number | null, passback: boolean): void {
    const timeoutMs = this.deps.policy.manualTimeoutMs;
    const timer = setTimeout(() => this.guard(() => this.resolvePending('refused', 'timeout', null, {})), timeoutMs);
    const { ms: atMs } = this.deps.clock.now();
    const id = uuidv7(atMs);
    this.pending = { id, scan, listVersion, passback, timer };
    showPending(this.deps.signals);
    this.deps.logger.info({ credentialType: scan.credentialType, pendingId: id }, 'scan.pending');
    // After the amber signal: the person in front of the gate comes before the guard's screen.
    this.deps.pendingBoard?.hold({
      v: 1,
      state: 'pending',
      id,
      lane: this.name,
      direction: this.deps.config.direction,
      at: new Date(atMs).toISOString(),
      expiresAt: new Date(atMs + timeoutMs).toISOString(),
      credentialType: scan.credentialType,
      credentialRef: scan.refHex,
      listVersion,
    });
  }

  private resolvePending(decision: 'granted' | 'refused', reason: Reason, atNs: bigint | null, answer: RemoteAnswer): ScanEvent | null {
    const pending = this.pending;
    if (!pending) return null;
    clearTimeout(pending.timer);
    this.pending = null;
    clearIndicators(this.deps.signals);
    // Latency now runs from the operator's button, not from the scan long ago.
    const scan = { ...pending.scan, lastByteAtNs: atNs };
    const event = this.finish(scan, decision, reason, { listVersion: pending.listVersion, passback: pending.passback, id: pending.id, ...answer });
    this.deps.pendingBoard?.resolve({
      v: 1,
      state: 'resolved',
      id: pending.id,
      lane: this.name,
      at: event.ts,
      decision: event.decision,
      reason: event.reason,
      ...(answer.by === undefined ? {} : { answeredBy: answer.by }),
    });
    return event;
  }

  /**
   * The central's `confirm` / `reject` (the guard screen): resolves the pending scan `id` as
   * its buttons would, recording who answered. Null when that scan is not pending here any
   * more (answered at the gate, timed out, answered twice): a late answer changes nothing.
   */
  answerPending(id: string, decision: 'granted' | 'refused', by: string | undefined): ScanEvent | null {
    if (!this.started || this.pending?.id !== id) return null;
    return this.resolvePending(decision, decision === 'granted' ? 'confirmed' : 'rejected', null, { by });
  }

  /**
   * The central's `open` command (DESIGN.md "MQTT": commands are recorded as events): a
   * grant with no credential, recorded and then actuated by the same path as a scan, so
   * the row exists before the relay moves. Null when the lane is not running.
   */
  remoteOpen(answer: RemoteAnswer = {}): ScanEvent | null {
    if (!this.started) return null;
    const scan: Scan = { debounceKey: 'remote-open', ref: null, refHex: null, credentialType: 'none', lastByteAtNs: null };
    return this.finish(scan, 'granted', 'remote-open', { listVersion: null, passback: false, ...answer });
  }

  /** Records the decision, then actuates it: the row exists before the gate moves. */
  private finish(
    scan: Scan,
    decision: 'granted' | 'refused',
    reason: Reason,
    context: RecordContext,
  ): ScanEvent {
    const { passage } = this.deps.inputs;
    const granted = decision === 'granted';
    const event = this.record(scan, decision, reason, context, { awaitingPassage: granted && passage !== undefined });
    if (granted) showGranted(this.deps.signals, this.deps.policy.relayPulseMs, event);
    else showRefused(this.deps.signals);
    const latencyMs = scan.lastByteAtNs === null ? null : elapsedMs(scan.lastByteAtNs);
    this.logDecision(event, latencyMs);
    if (!granted) return event;
    // A grant recorded as awaiting passage must be settled even without a credential (a
    // remote open), or its row would never become final and never leave.
    if (passage) this.awaitPassage(event.id, scan.ref);
    else if (scan.ref) this.deps.presence.passed(scan.ref, this.deps.config.direction, this.deps.clock.now().ms);
    return event;
  }

  /** A decision that moves no output (a repeat read, a scan while the operator is busy). */
  private recordOnly(scan: Scan, decision: Decision, reason: Reason): void {
    const event = this.record({ ...scan, lastByteAtNs: null }, decision, reason, { listVersion: null, passback: false }, {});
    this.logDecision(event, null);
  }

  private record(
    scan: Scan,
    decision: Decision,
    reason: Reason,
    context: RecordContext,
    options: { awaitingPassage?: boolean },
  ): ScanEvent {
    return this.deps.outbox.record(
      {
        lane: this.name,
        direction: this.deps.config.direction,
        credentialType: scan.credentialType,
        credentialRef: scan.refHex,
        listVersion: context.listVersion,
        decision,
        reason,
        passback: context.passback,
        passed: null,
        latencyMs: scan.lastByteAtNs === null ? null : elapsedMs(scan.lastByteAtNs),
        ...(context.by === undefined ? {} : { answeredBy: context.by }),
        ...(context.note === undefined ? {} : { note: context.note }),
      },
      { ...options, ...(context.id === undefined ? {} : { id: context.id }) },
    );
  }

  private logDecision(event: ScanEvent, latencyMs: number | null): void {
    this.deps.logger.info(
      {
        // `lane` comes from this logger's bindings
        direction: event.direction,
        credentialType: event.credentialType,
        decision: event.decision,
        reason: event.reason,
        listVersion: event.listVersion,
        passback: event.passback,
        latencyMs: latencyMs === null ? null : Math.round(latencyMs * 1000) / 1000,
        eventId: event.id,
        seq: event.seq,
        ...(event.answeredBy === undefined ? {} : { answeredBy: event.answeredBy }),
      },
      'scan.decided',
    );
  }

  private awaitPassage(eventId: string, ref: Buffer | null): void {
    const windowMs = this.deps.policy.relayPulseMs + this.deps.policy.passageGraceMs;
    const timer = setTimeout(() => this.guard(() => this.settleOldestPassage(false)), windowMs);
    this.awaitingPassage.push({ eventId, ref, timer });
  }

  /** The sensor cannot tell people apart: a passage belongs to the oldest grant still waiting. */
  private settleOldestPassage(passed: boolean): void {
    const waiting = this.awaitingPassage.shift();
    if (!waiting) {
      if (passed) this.deps.logger.warn('passage.unexpected');
      return;
    }
    clearTimeout(waiting.timer);
    this.deps.outbox.settlePassage(waiting.eventId, passed);
    if (passed && waiting.ref) this.deps.presence.passed(waiting.ref, this.deps.config.direction, this.deps.clock.now().ms);
    this.deps.logger.info({ eventId: waiting.eventId, passed }, 'passage.settled');
  }
}
