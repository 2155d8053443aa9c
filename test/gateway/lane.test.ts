import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TerminalClock } from '../../gateway/clock.js';
import { loadTerminalConfig, type LaneConfig, type TerminalConfig } from '../../gateway/config.js';
import { laneSignals } from '../../gateway/feedback.js';
import { Lane } from '../../gateway/lane.js';
import { ListCache } from '../../gateway/listCache.js';
import { importListFile } from '../../gateway/listImport.js';
import { Outbox } from '../../gateway/outbox.js';
import { Presence } from '../../gateway/presence.js';
import { openTerminalDb, type TerminalDb } from '../../gateway/terminalDb.js';
import { SimGpio } from '../../hardware/gpio/simGpio.js';
import type { ScanEvent } from '../../protocol/event.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { cccdQr, type SamplePerson } from '../../provisioning/samplePeople.js';
import { FakeScanner } from '../fakes/fakeScanner.js';
import { refHasherFor, writeList } from '../helpers/lists.js';
import { useTempDir } from '../helpers/tempDir.js';
import { outboxWatchingRelay } from '../fakes/outboxWatchingRelay.js';
import { captureLogger, type LogLine } from '../fakes/captureLogger.js';
import { createLogger } from '../../protocol/logger.js';
import { StorageHealth } from '../../gateway/storageHealth.js';
import { PendingBoard } from '../../gateway/pendingBoard.js';
import type { PendingMessage } from '../../protocol/messages.js';
import { pendingMessageSchema } from '../../protocol/messages.js';

const logger = pino({ level: 'silent' });

interface Rig {
  lane: Lane;
  scanner: FakeScanner;
  gpio: SimGpio;
  db: TerminalDb;
  lists: ListCache;
  events: () => Array<ScanEvent & { final: number }>;
  relayPulses: () => number;
  /** Every request to pulse the relay, as logged (`relay.pulse`), edges or not. */
  relayRequests: () => LogLine[];
  /** How many outbox rows existed each time the relay was switched on. */
  rowsWhenRelayOn: number[];
  /** The n-th registered person with that status. */
  person: (status: 'allow' | 'deny' | 'check', n?: number) => SamplePerson;
  config: TerminalConfig;
  /** The outbox's storage alarm, its log lines captured. */
  storage: StorageHealth;
  storageLog: ReturnType<typeof captureLogger>;
  /** The lane's own log lines at info and above, what an operator's journal shows. */
  laneLog: ReturnType<typeof captureLogger>;
  /** What the lane told the central's guard screen (`…/pending`), in order. */
  told: PendingMessage[];
  board: PendingBoard;
}

describe('Lane', () => {
  const tempDir = useTempDir();
  const rigs: Rig[] = [];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.parse('2026-11-23T08:00:00Z'));
  });
  afterEach(async () => {
    for (const rig of rigs.splice(0)) {
      await rig.lane.stop();
      rig.db.close();
      rig.lists.close();
    }
    vi.useRealTimers();
  });

  async function rig(
    laneOverrides: Partial<LaneConfig> = {},
    policyOverrides: Partial<TerminalConfig['policy']> = {},
    listHeader: { expiresAt?: string } = {},
    laneLogger = logger,
    /** The list scopes the lane serves, when not the config's. */
    scopes?: readonly string[],
  ): Promise<Rig> {
    const dir = tempDir();
    const site = createDemoSite(dir, { people: 30 });
    const config = loadTerminalConfig(site.configFile);
    if (listHeader.expiresAt) {
      const hash = refHasherFor(join(dir, 'keys'));
      writeList(
        join(dir, 'keys'),
        site.listFile,
        { version: 1, issuedAt: new Date(Date.now() - 86_400_000).toISOString(), expiresAt: listHeader.expiresAt },
        site.people.map((p) => ({ ref: hash('citizen', p.idNumber), status: p.status })),
      );
    }
    importListFile(config, site.listFile);
    const db = openTerminalDb(config.dataDir);
    const lists = new ListCache(config.dataDir);
    const clock = new TerminalClock(db);
    const gpio = new SimGpio({ logger });
    const laneConfig: LaneConfig = { ...config.lanes[0]!, ...laneOverrides };
    const inputs = {
      confirm: gpio.input('confirm', 10, { debounceMs: 0, activeLow: false }),
      reject: gpio.input('reject', 11, { debounceMs: 0, activeLow: false }),
      ...(laneOverrides.gpio?.inputs.passage !== undefined
        ? { passage: gpio.input('passage', 12, { debounceMs: 0, activeLow: false }) }
        : {}),
    };
    const { relay: relayOutput, rowsWhenRelayOn } = outboxWatchingRelay(gpio.output('relay', 4), db);
    const scanner = new FakeScanner();
    const storageLog = captureLogger();
    const laneLog = captureLogger('info');
    // A test that passes its own logger reads the lane's lines there; otherwise laneLog holds them.
    const laneLines = laneLogger === logger ? laneLog.logger : laneLogger;
    const storage = new StorageHealth({ logger: storageLog.logger });
    const board = new PendingBoard();
    const told: PendingMessage[] = [];
    board.onChange((message) => told.push(message));
    const outbox = new Outbox(db, { terminalId: config.terminalId, checkpointCode: config.checkpoint.code, bootId: crypto.randomUUID() }, clock, storage);
    const lane = new Lane({
      config: laneConfig,
      policy: { ...config.policy, ...policyOverrides },
      scopes: scopes ?? config.lists,
      scanner,
      signals: laneSignals({ relay: relayOutput, green: gpio.output('green', 1), red: gpio.output('red', 2), buzzer: gpio.output('buzzer', 3) }, laneLines),
      inputs,
      outbox,
      lists,
      presence: new Presence(db, config.policy.antiPassbackWindowMs),
      clock,
      hashRef: refHasherFor(join(dir, 'keys')),
      logger: laneLines,
      pendingBoard: board,
    });
    await lane.start();
    const result: Rig = {
      lane,
      scanner,
      gpio,
      db,
      lists,
      config,
      events: () =>
        db
          .prepare<[], { event: string; final: number }>('SELECT event, final FROM outbox ORDER BY seq')
          .all()
          .map((row) => ({ ...(JSON.parse(row.event) as ScanEvent), final: row.final })),
      rowsWhenRelayOn,
      relayPulses: () => gpio.history.filter((w) => w.output === 'relay' && w.value === 1).length,
      relayRequests: () => laneLog.messages('relay.pulse'),
      person: (status, n = 0) => site.people.filter((p) => p.status === status)[n]!,
      storage,
      storageLog,
      laneLog,
      told,
      board,
    };
    rigs.push(result);
    return result;
  }

  it('stores the decision before the relay moves, then pulses it for relayPulseMs', async () => {
    const r = await rig();
    r.scanner.scan(cccdQr(r.person('allow')));
    r.scanner.scan(cccdQr(r.person('allow', 1)));
    expect(r.rowsWhenRelayOn).toEqual([1, 2]);
    expect(r.events()[0]).toMatchObject({ decision: 'granted', reason: 'allowed', credentialType: 'cccd', passed: null, final: 1 });
    expect(r.gpio.level('relay')).toBe(1);
    await vi.advanceTimersByTimeAsync(r.config.policy.relayPulseMs - 1);
    expect(r.gpio.level('relay')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.gpio.level('relay')).toBe(0);
  });

  it('a full disk: the grant that cannot be recorded is refused and never opens; the first scan after space returns is recorded', async () => {
    const r = await rig();
    // SQLite's own limit stands in for a full SD card: the same SQLITE_FULL (a real tmpfs gives it too).
    r.db.pragma(`max_page_count = ${r.db.pragma('page_count', { simple: true }) as number}`);
    const allowed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => r.person('allow', n));
    let scans = 0;
    let relayOnsBeforeFullScan = -1;
    for (let round = 0; r.storage.writable && round < 50; round++) {
      for (const person of allowed) {
        const relayOns = r.rowsWhenRelayOn.length;
        r.scanner.scan(cccdQr(person));
        scans++;
        if (!r.storage.writable) {
          relayOnsBeforeFullScan = relayOns;
          break;
        }
      }
      await vi.advanceTimersByTimeAsync(r.config.policy.debounceMs + 1);
    }
    expect(r.storage.writable).toBe(false);
    const recorded = r.events();
    expect(recorded.length).toBe(scans - 1);
    // The unrecorded grant drove no relay write and showed red; the gate is shut.
    expect(r.rowsWhenRelayOn.length).toBe(relayOnsBeforeFullScan);
    expect(r.gpio.history.filter((h) => h.output === 'red' && h.value === 1)).toHaveLength(1);
    expect(r.gpio.level('relay')).toBe(0);

    r.db.pragma('max_page_count = 1073741823');
    await vi.advanceTimersByTimeAsync(r.config.policy.debounceMs + 1);
    r.scanner.scan(cccdQr(r.person('allow', 11)));
    expect(r.storage.writable).toBe(true);
    expect(r.events().at(-1)).toMatchObject({ decision: 'granted' });
    // One alarm for the episode, however many scans it refused, and one all-clear.
    expect(r.storageLog.lines.map((l) => l.msg)).toEqual(['storage.write-failed', 'storage.recovered']);
    expect(r.storageLog.lines[0]).toMatchObject({ code: 'SQLITE_FULL' });
    // The lane's own journal: a warning for the expected full disk, never a lane failure.
    expect(r.laneLog.messages('scan.unrecorded')).toMatchObject([{ level: 40, reason: 'storage-full' }]);
    expect(r.laneLog.messages('lane.failed')).toEqual([]);
  });

  it('does not pulse twice for a card held on the glass', async () => {
    const r = await rig();
    const qr = cccdQr(r.person('allow'));
    r.scanner.scan(qr);
    await vi.advanceTimersByTimeAsync(500);
    r.scanner.scan(qr);
    await vi.advanceTimersByTimeAsync(2000);
    r.scanner.scan(qr);
    expect(r.events().map((e) => e.decision)).toEqual(['granted', 'duplicate', 'duplicate']);
    expect(r.relayPulses()).toBe(1);
    expect(r.relayRequests()).toHaveLength(1);
  });

  it('logs every relay pulse request with the event it serves, also those that only extend an energised relay', async () => {
    const r = await rig();
    r.scanner.scan(cccdQr(r.person('allow')));
    await vi.advanceTimersByTimeAsync(r.config.policy.relayPulseMs / 2);
    r.scanner.scan(cccdQr(r.person('deny'))); // refused while the relay is energised
    r.scanner.scan(cccdQr(r.person('allow', 1))); // back to back: extends the pulse
    await vi.advanceTimersByTimeAsync(r.config.policy.relayPulseMs);
    expect(r.gpio.level('relay')).toBe(0);
    const events = r.events();
    expect(events.map((e) => e.decision)).toEqual(['granted', 'refused', 'granted']);
    // One rise on the line, two requests: the second grant kept the gate open, the refusal did not.
    expect(r.relayPulses()).toBe(1);
    expect(r.relayRequests().map(({ eventId, seq, decision, pulseMs }) => ({ eventId, seq, decision, pulseMs }))).toEqual(
      [events[0]!, events[2]!].map((e) => ({ eventId: e.id, seq: e.seq, decision: 'granted', pulseMs: r.config.policy.relayPulseMs })),
    );
  });

  it("writes a decision's log lines in one write once the gate has moved, in the order they were logged", async () => {
    // What journald (or the bench) reads: each write(2) wakes that reader, which may take
    // the CPU from the scan there and then (protocol/heldLogLines.ts).
    const writes: { text: string; relayLevel: number | null }[] = [];
    let current: Rig | null = null;
    const journal = createLogger({ level: 'info', destination: { write: (text: string) => void writes.push({ text, relayLevel: current?.gpio.level('relay') ?? null }) } });
    const r = await rig({}, {}, {}, journal);
    current = r;
    writes.splice(0);
    r.scanner.scan(cccdQr(r.person('allow')));
    expect(r.rowsWhenRelayOn).toEqual([1]);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.relayLevel).toBe(1);
    const lines = writes[0]!.text.trimEnd().split('\n').map((line) => JSON.parse(line) as LogLine);
    expect(lines.map((line) => line.msg)).toEqual(['relay.pulse', 'scan.decided']);
    expect(lines[0]).toMatchObject({ eventId: lines[1]!.eventId, decision: 'granted' });
    // Outside a decision nothing is held: a line is written as it is logged.
    r.scanner.emit('connected');
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[1]!.text)).toMatchObject({ msg: 'scanner.connected' });
  });

  it('refuses with red and a long buzz, never touching the relay', async () => {
    const r = await rig();
    r.scanner.scan(cccdQr(r.person('deny')));
    r.scanner.scan('not a credential');
    r.scanner.scan('', 'scanner', 'too-long');
    expect(r.events().map((e) => [e.decision, e.reason])).toEqual([
      ['refused', 'denied'],
      ['refused', 'malformed'],
      ['refused', 'malformed'],
    ]);
    expect(r.relayPulses()).toBe(0);
    expect(r.relayRequests()).toEqual([]);
    expect(r.gpio.level('red')).toBe(1);
    expect(r.gpio.level('buzzer')).toBe(1);
  });

  it('logs a malformed frame by problem, length and source, never by its content', async () => {
    const r = await rig();
    const idNumber = r.person('allow').idNumber;
    // A CCCD QR cut short: it carries a real ID number but is no credential.
    const truncated = cccdQr(r.person('allow')).split('|').slice(0, 3).join('|');
    r.scanner.scan(truncated);
    r.scanner.scan(`${idNumber}\u0007`, 'scanner', 'control-bytes');
    r.scanner.scan('not a credential', 'keyboard');
    const logged = r.laneLog.messages('scan.malformed');
    expect(logged).toEqual([
      expect.objectContaining({ level: 30, problem: 'not-a-credential', bytes: Buffer.byteLength(truncated), source: 'scanner' }),
      expect.objectContaining({ level: 30, problem: 'control-bytes', bytes: idNumber.length + 1, source: 'scanner' }),
      expect.objectContaining({ level: 30, problem: 'not-a-credential', bytes: 16, source: 'keyboard' }),
    ]);
    expect(logged[0]!.detail).toMatch(/fields/);
    expect(JSON.stringify(r.laneLog.lines)).not.toContain(idNumber);
    expect(JSON.stringify(r.laneLog.lines)).not.toContain('not a credential');
  });

  describe('at a manual lane', () => {
    const manual = { confirm: 'manual', attended: true } as const;

    it('holds the scan until the operator confirms, then opens', async () => {
      const r = await rig(manual);
      r.scanner.scan(cccdQr(r.person('allow')));
      expect(r.events()).toHaveLength(0);
      expect(r.relayPulses()).toBe(0);
      await vi.advanceTimersByTimeAsync(2000);
      r.gpio.press('confirm');
      await vi.advanceTimersByTimeAsync(10);
      expect(r.events()).toMatchObject([{ decision: 'granted', reason: 'confirmed' }]);
      expect(r.relayPulses()).toBe(1);
    });

    it('refuses on reject and on timeout, and keeps a second person waiting out of it', async () => {
      const r = await rig(manual);
      r.scanner.scan(cccdQr(r.person('allow')));
      r.scanner.scan(cccdQr(r.person('check')));
      r.gpio.press('reject');
      await vi.advanceTimersByTimeAsync(10);
      r.scanner.scan(cccdQr(r.person('allow', 1)));
      await vi.advanceTimersByTimeAsync(r.config.policy.manualTimeoutMs);
      expect(r.events().map((e) => [e.decision, e.reason])).toEqual([
        ['refused', 'lane-busy'],
        ['refused', 'rejected'],
        ['refused', 'timeout'],
      ]);
      expect(r.relayPulses()).toBe(0);
    });

    it("tells the guard screen of the pending scan by the event's id, with its expiry and the keyed ref only, and of its end", async () => {
      const r = await rig(manual);
      const person = r.person('allow');
      r.scanner.scan(cccdQr(person));
      expect(r.told).toHaveLength(1);
      const held = r.told[0]!;
      expect(pendingMessageSchema.safeParse(held).success).toBe(true);
      expect(held).toMatchObject({ state: 'pending', lane: r.config.lanes[0]!.name, credentialType: 'cccd' });
      if (held.state !== 'pending') throw new Error('expected a pending message');
      expect(Date.parse(held.expiresAt) - Date.parse(held.at)).toBe(r.config.policy.manualTimeoutMs);
      expect(held.credentialRef).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(r.told)).not.toContain(person.idNumber);
      expect(r.board.current().map((m) => m.id)).toEqual([held.id]);
      r.gpio.press('confirm');
      await vi.advanceTimersByTimeAsync(10);
      // The gate's own button still decides; the event keeps the id the guard screen knew.
      expect(r.events()).toMatchObject([{ id: held.id, decision: 'granted', reason: 'confirmed' }]);
      expect(r.events()[0]!.answeredBy).toBeUndefined();
      expect(r.told[1]).toMatchObject({ state: 'resolved', id: held.id, decision: 'granted', reason: 'confirmed' });
      expect(r.board.current()).toEqual([]);
    });

    it('tells the end of a scan that timed out', async () => {
      const r = await rig(manual);
      r.scanner.scan(cccdQr(r.person('allow')));
      await vi.advanceTimersByTimeAsync(r.config.policy.manualTimeoutMs);
      expect(r.told.map((m) => m.state)).toEqual(['pending', 'resolved']);
      expect(r.told[1]).toMatchObject({ id: r.told[0]!.id, decision: 'refused', reason: 'timeout' });
      expect(r.events()).toMatchObject([{ id: r.told[0]!.id, reason: 'timeout' }]);
    });

    it("resolves that very scan by the central's answer, recording who answered; a late or second answer changes nothing", async () => {
      const r = await rig(manual);
      r.scanner.scan(cccdQr(r.person('allow')));
      const id = r.told[0]!.id;
      expect(r.lane.answerPending('0190d6a4-7b7e-7c3a-8f00-000000000001', 'granted', 'user:other')).toBeNull();
      expect(r.events()).toHaveLength(0);
      const event = r.lane.answerPending(id, 'granted', 'user:guard-a');
      expect(event).toMatchObject({ id, decision: 'granted', reason: 'confirmed', answeredBy: 'user:guard-a' });
      expect(r.relayPulses()).toBe(1);
      expect(r.told[1]).toMatchObject({ state: 'resolved', id, answeredBy: 'user:guard-a' });
      // The operator's journal says who answered from the central.
      expect(r.laneLog.messages('scan.decided')).toMatchObject([{ eventId: id, reason: 'confirmed', answeredBy: 'user:guard-a' }]);
      // A second answer, and the gate's button after it: decided once, opened once.
      expect(r.lane.answerPending(id, 'refused', 'user:guard-b')).toBeNull();
      r.gpio.press('confirm');
      await vi.advanceTimersByTimeAsync(10);
      expect(r.events().map((e) => [e.id, e.reason, e.answeredBy])).toEqual([[id, 'confirmed', 'user:guard-a']]);
      expect(r.relayPulses()).toBe(1);
    });

    it('refuses a late answer after the timeout, and a reject answer records a refusal with who rejected', async () => {
      const r = await rig(manual);
      r.scanner.scan(cccdQr(r.person('allow')));
      const late = r.told[0]!.id;
      await vi.advanceTimersByTimeAsync(r.config.policy.manualTimeoutMs);
      expect(r.lane.answerPending(late, 'granted', 'user:guard-a')).toBeNull();
      await vi.advanceTimersByTimeAsync(r.config.policy.debounceMs);
      r.scanner.scan(cccdQr(r.person('allow', 1)));
      const second = r.told.at(-1)!.id;
      expect(r.lane.answerPending(second, 'refused', 'user:guard-a')).toMatchObject({ id: second, decision: 'refused', reason: 'rejected', answeredBy: 'user:guard-a' });
      expect(r.events().map((e) => e.reason)).toEqual(['timeout', 'rejected']);
      expect(r.relayPulses()).toBe(0);
    });

    it('records a remote open with who asked and the typed reason', async () => {
      const r = await rig();
      expect(r.lane.remoteOpen({ by: 'user:guard-a', note: 'xe cứu thương' })).toMatchObject({ reason: 'remote-open', answeredBy: 'user:guard-a', note: 'xe cứu thương' });
      expect(r.relayPulses()).toBe(1);
    });

    it('decides at the gate even when the listener fails', async () => {
      const r = await rig(manual);
      // A process warning (QRGATE_PENDING_LISTENER) is all a failing listener leaves.
      r.board.onChange(() => {
        throw new Error('link down');
      });
      r.scanner.scan(cccdQr(r.person('allow')));
      r.gpio.press('confirm');
      await vi.advanceTimersByTimeAsync(10);
      expect(r.events()).toMatchObject([{ decision: 'granted', reason: 'confirmed' }]);
      expect(r.relayPulses()).toBe(1);
    });
  });

  it('asks an operator for a check entry at an attended auto lane', async () => {
    const r = await rig({ attended: true });
    r.scanner.scan(cccdQr(r.person('check')));
    expect(r.events()).toHaveLength(0);
    r.gpio.press('confirm');
    await vi.advanceTimersByTimeAsync(10);
    expect(r.events()).toMatchObject([{ decision: 'granted', reason: 'confirmed' }]);
  });

  it('records whether the person passed, from the passage sensor', async () => {
    const base = await rig();
    const gpio = { ...base.config.lanes[0]!.gpio, inputs: { ...base.config.lanes[0]!.gpio.inputs, passage: 12 } };
    const r = await rig({ gpio });
    r.scanner.scan(cccdQr(r.person('allow')));
    expect(r.events()[0]).toMatchObject({ decision: 'granted', final: 0, passed: null });
    r.gpio.press('passage');
    await vi.advanceTimersByTimeAsync(10);
    expect(r.events()[0]).toMatchObject({ final: 1, passed: true });

    r.scanner.scan(cccdQr(r.person('allow', 1)));
    const secondAllowed = r.events()[1]!;
    expect(secondAllowed).toMatchObject({ final: 0 });
    await vi.advanceTimersByTimeAsync(r.config.policy.relayPulseMs + r.config.policy.passageGraceMs);
    expect(r.events()[1]).toMatchObject({ final: 1, passed: false });
  });

  it('refuses the same direction twice with hard anti-passback', async () => {
    const r = await rig({}, { antiPassback: 'hard', debounceMs: 1000 });
    const qr = cccdQr(r.person('allow'));
    r.scanner.scan(qr);
    await vi.advanceTimersByTimeAsync(1500);
    r.scanner.scan(qr);
    expect(r.events().map((e) => [e.decision, e.reason, e.passback])).toEqual([
      ['granted', 'allowed', false],
      ['refused', 'passback', true],
    ]);
  });

  it('applies the stale-list policy once the list has expired', async () => {
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const r = await rig({}, {}, { expiresAt });
    r.scanner.scan(cccdQr(r.person('allow')));
    vi.setSystemTime(Date.now() + 120_000);
    r.scanner.scan(cccdQr(r.person('allow', 1)));
    expect(r.events().map((e) => [e.decision, e.reason])).toEqual([
      ['granted', 'allowed'],
      ['refused', 'stale-list'],
    ]);
  });

  /** Edges mutation testing found unguarded (docs/testing.md "Mutation testing"). */
  describe('edges', () => {
    const withPassageSensor = async (policy: Partial<TerminalConfig['policy']> = {}) => {
      const base = await rig();
      const gpio = { ...base.config.lanes[0]!.gpio, inputs: { ...base.config.lanes[0]!.gpio.inputs, passage: 12 } };
      return rig({ gpio }, policy);
    };

    it('decides each frame once however often it is started, and nothing once stopped', async () => {
      const r = await rig();
      await r.lane.start();
      r.scanner.scan(cccdQr(r.person('allow')));
      expect(r.events()).toHaveLength(1);
      await r.lane.stop();
      await r.lane.stop();
      r.scanner.scan(cccdQr(r.person('allow', 1)));
      expect(r.events()).toHaveLength(1);
      expect(r.lane.remoteOpen()).toBeNull();
      expect(r.scanner.connected).toBe(false);
    });

    it('records a remote open as a grant with no credential, then pulses the relay', async () => {
      const r = await rig();
      const event = r.lane.remoteOpen();
      expect(event).toMatchObject({ decision: 'granted', reason: 'remote-open', credentialType: 'none', credentialRef: null, listVersion: null, passback: false });
      expect(r.events()).toMatchObject([{ id: event!.id, final: 1 }]);
      expect(r.rowsWhenRelayOn).toEqual([1]);
    });

    it('takes a bare ID number from the keyboard as typed, never from the scanner', async () => {
      const r = await rig({}, { debounceMs: 0 });
      const person = r.person('allow');
      r.scanner.scan(person.idNumber, 'scanner');
      await vi.advanceTimersByTimeAsync(1);
      r.scanner.scan(person.idNumber, 'keyboard');
      expect(r.events().map((e) => [e.decision, e.reason, e.credentialType])).toEqual([
        ['refused', 'malformed', 'unknown'],
        ['granted', 'allowed', 'typed'],
      ]);
    });

    it('cites the installed list version for an unknown person too', async () => {
      const r = await rig();
      r.scanner.scan(cccdQr({ ...r.person('allow'), idNumber: '079999999999' }));
      r.scanner.scan(cccdQr(r.person('allow')));
      const version = r.lists.installed().get(r.config.lists[0]!)!.version;
      expect(r.events().map((e) => [e.reason, e.listVersion])).toEqual([
        ['unknown', version],
        ['allowed', version],
      ]);
    });

    it("decides on its own scopes' lists only, and a scope with no list installed yet does not stop it", async () => {
      const elsewhere = await rig({}, {}, {}, logger, ['other-site']);
      elsewhere.scanner.scan(cccdQr(elsewhere.person('allow')));
      expect(elsewhere.events()).toMatchObject([{ decision: 'refused', reason: 'no-list', listVersion: null }]);
      const both = await rig({}, {}, {}, logger, ['other-site', elsewhere.config.lists[0]!]);
      both.scanner.scan(cccdQr(both.person('allow')));
      expect(both.events()).toMatchObject([{ decision: 'granted', reason: 'allowed', listVersion: 1 }]);
    });

    it('counts a list as stale from the very millisecond of its expiry', async () => {
      // The terminal clock adds the monotonic time elapsed between readings: frozen too, or the
      // second scan would land some real milliseconds past the expiry and prove nothing.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
      const expiresAtMs = Date.now() + 60_000;
      const r = await rig({}, {}, { expiresAt: new Date(expiresAtMs).toISOString() });
      vi.setSystemTime(expiresAtMs - 1);
      r.scanner.scan(cccdQr(r.person('allow')));
      vi.setSystemTime(expiresAtMs);
      r.scanner.scan(cccdQr(r.person('allow', 1)));
      expect(r.events().map((e) => e.reason)).toEqual(['allowed', 'stale-list']);
    });

    it('measures latency from the last byte to the decision', async () => {
      const r = await rig();
      const before = process.hrtime.bigint();
      r.scanner.scan(cccdQr(r.person('allow')));
      const upperMs = Number(process.hrtime.bigint() - before) / 1e6;
      r.scanner.scan(cccdQr(r.person('allow')));
      const [granted, repeat] = r.events();
      expect(granted!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(granted!.latencyMs).toBeLessThanOrEqual(upperMs);
      expect(repeat).toMatchObject({ decision: 'duplicate', latencyMs: null });
    });

    it('remembers a passage for anti-passback only when the person went through', async () => {
      const r = await withPassageSensor({ antiPassback: 'hard', debounceMs: 1000 });
      const walker = cccdQr(r.person('allow'));
      const hesitant = cccdQr(r.person('allow', 1));
      r.scanner.scan(walker);
      r.scanner.scan(hesitant);
      r.gpio.press('passage'); // the first grant still waiting is the walker's
      const windowMs = r.config.policy.relayPulseMs + r.config.policy.passageGraceMs;
      await vi.advanceTimersByTimeAsync(windowMs - 20);
      expect(r.events()[1]).toMatchObject({ final: 0, passed: null });
      await vi.advanceTimersByTimeAsync(20);
      expect(r.events().map((e) => e.passed)).toEqual([true, false]);
      r.scanner.scan(walker);
      r.scanner.scan(hesitant);
      expect(r.events().slice(2).map((e) => [e.decision, e.reason])).toEqual([
        ['refused', 'passback'],
        ['granted', 'allowed'],
      ]);
    });

    it('does not remember an operator-rejected person as having passed', async () => {
      const r = await rig({ confirm: 'manual', attended: true }, { antiPassback: 'hard', debounceMs: 1000 });
      const qr = cccdQr(r.person('allow'));
      r.scanner.scan(qr);
      r.gpio.press('reject');
      await vi.advanceTimersByTimeAsync(1500);
      r.scanner.scan(qr);
      r.gpio.press('confirm');
      await vi.advanceTimersByTimeAsync(10);
      expect(r.events().map((e) => [e.decision, e.reason, e.passback])).toEqual([
        ['refused', 'rejected', false],
        ['granted', 'confirmed', false],
      ]);
    });

    it('records a repeat of the waiting scan as a duplicate, and ignores buttons with nothing waiting', async () => {
      const r = await rig({ confirm: 'manual', attended: true }, { debounceMs: 100 });
      r.gpio.press('confirm');
      await vi.advanceTimersByTimeAsync(200);
      expect(r.gpio.level('red')).toBe(0);
      const qr = cccdQr(r.person('allow'));
      r.scanner.scan(qr);
      await vi.advanceTimersByTimeAsync(200); // past the debounce: only the waiting scan makes it a repeat
      r.scanner.scan(qr);
      r.scanner.scan('not a credential');
      expect(r.events().map((e) => [e.decision, e.reason, e.passback, e.listVersion])).toEqual([
        ['duplicate', 'debounce', false, null],
        ['refused', 'lane-busy', false, null],
      ]);
      r.gpio.press('reject');
      await vi.advanceTimersByTimeAsync(200);
      r.scanner.scan('still not a credential');
      expect(r.events().slice(2).map((e) => [e.decision, e.reason, e.passback, e.listVersion])).toEqual([
        ['refused', 'rejected', false, 1],
        ['refused', 'malformed', false, null],
      ]);
    });

    it('logs each decision and device change for the operator, and never the scanned text', async () => {
      const log = captureLogger();
      const base = await rig();
      const gpio = { ...base.config.lanes[0]!.gpio, inputs: { ...base.config.lanes[0]!.gpio.inputs, passage: 12 } };
      const r = await rig({ gpio }, {}, {}, log.logger);
      const person = r.person('allow');
      r.scanner.emit('connected');
      r.scanner.emit('disconnected', 'unplugged');
      r.gpio.press('passage');
      await vi.advanceTimersByTimeAsync(200); // released again
      r.scanner.scan(cccdQr(person));
      r.scanner.scan('garbage');
      r.scanner.scan('', 'scanner', 'too-long');
      r.gpio.press('passage');
      await vi.advanceTimersByTimeAsync(10);
      expect(log.messages('scanner.connected')).toHaveLength(1);
      expect(log.messages('scanner.disconnected')).toMatchObject([{ reason: 'unplugged' }]);
      expect(log.messages('passage.unexpected')).toHaveLength(1);
      expect(log.messages('scan.malformed')).toMatchObject([{ detail: expect.any(String) }, { problem: 'too-long', bytes: 0 }]);
      const [decided] = log.messages('scan.decided');
      expect(decided).toMatchObject({ direction: 'in', credentialType: 'cccd', decision: 'granted', reason: 'allowed', passback: false, seq: 1 });
      expect(decided!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(log.messages('passage.settled')).toMatchObject([{ eventId: decided!.eventId, passed: true }]);
      expect(JSON.stringify(log.lines)).not.toContain(person.idNumber);
    });
  });
});
