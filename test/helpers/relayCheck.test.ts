import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Decision, Reason, ScanEvent } from '../../protocol/event.js';
import { CP_A, scanEvent } from '../broker/store/scanEvents.js';
import type { LogLine } from './qrgateProcess.js';
import { checkRelay, type EndedBy } from './relayCheck.js';

/**
 * The relay checker against hand-written terminal logs, in the order a lane writes them:
 * the decision is recorded, the relay asked for a pulse naming it (`relay.pulse`, then
 * `gpio.set` only if the line rises), then `scan.decided`. Each unsafe log must be reported.
 */
class TerminalLog {
  readonly lines: LogLine[] = [];
  readonly stored: ScanEvent[] = [];
  private readonly terminalId = `t-${randomUUID()}`;
  private seq = 0;
  private relay = 0;
  readonly bootId: string;

  constructor(readonly ended: EndedBy = 'SIGTERM') {
    this.bootId = scanEvent({ terminalId: this.terminalId, checkpointCode: CP_A, seq: 1, tsMs: 0 }).bootId;
    this.lines.push({ msg: 'terminal.ready', level: 30, bootId: this.bootId });
  }

  /**
   * One decision. `pulse`: the relay is asked to pulse for it, claiming `claims` as the
   * decision (a lying line is possible in a buggy terminal); `store`: the central has it.
   */
  decide(decision: Decision, options: { reason?: Reason; pulse?: boolean; claims?: Decision; store?: boolean; logDecision?: boolean } = {}): ScanEvent {
    const { pulse = decision === 'granted', claims = decision, store = true, logDecision = true } = options;
    const made = scanEvent({ terminalId: this.terminalId, checkpointCode: CP_A, seq: ++this.seq, tsMs: Date.now() + this.seq, decision });
    const event = { ...made, reason: options.reason ?? made.reason };
    if (store) this.stored.push(event);
    if (pulse) {
      this.lines.push({ msg: 'relay.pulse', level: 30, lane: 'in', eventId: event.id, seq: event.seq, decision: claims, pulseMs: 50 });
      this.rise();
    }
    if (logDecision) this.lines.push({ msg: 'scan.decided', level: 30, lane: 'in', eventId: event.id, seq: event.seq, decision, reason: event.reason });
    return event;
  }

  /** The line rises, if it is not already up. */
  rise(): void {
    if (this.relay === 1) return;
    this.relay = 1;
    this.lines.push({ msg: 'gpio.set', level: 30, lane: 'in', output: 'relay', value: 1 });
  }

  pulseEnds(): void {
    this.relay = 0;
    this.lines.push({ msg: 'gpio.set', level: 30, lane: 'in', output: 'relay', value: 0 });
  }

  check(mode: 'stored' | 'logged' = 'stored') {
    return checkRelay([{ proc: this, ended: this.ended }], mode === 'stored' ? { stored: this.stored } : {});
  }
}

describe('checkRelay', () => {
  it('passes grants, back-to-back grants and refusals while the relay is energised, and counts what it saw', () => {
    const log = new TerminalLog();
    log.decide('granted');
    log.decide('refused'); // during the pulse: no request, the grant's pulse keeps running
    log.decide('granted'); // back to back: extends, no new rise
    log.pulseEnds();
    log.decide('duplicate');
    log.decide('granted');
    log.pulseEnds();
    for (const mode of ['stored', 'logged'] as const) {
      expect(log.check(mode)).toEqual({ pulses: 3, rises: 2, refusals: 2, killedWhileOn: 0, problems: [] });
    }
  });

  it('reports a pulse for a denied scan', () => {
    const log = new TerminalLog();
    log.decide('refused', { reason: 'denied', pulse: true });
    log.pulseEnds();
    expect(log.check().problems).toEqual([expect.stringContaining('relay pulse for seq 1 (refused): the decision it serves is not a grant')]);
  });

  it('reports a refused scan that extends a relay a grant energised, though the line never moves', () => {
    const log = new TerminalLog();
    log.decide('granted');
    log.decide('refused', { reason: 'denied', pulse: true });
    log.pulseEnds();
    const report = log.check();
    expect(report.rises).toBe(1);
    expect(report.problems).toEqual([expect.stringContaining('relay pulse for seq 2 (refused)')]);
  });

  it('reports a pulse that names a refused event as a grant, from the stored event and from the logged decision', () => {
    const log = new TerminalLog();
    log.decide('granted');
    log.decide('refused', { reason: 'denied', pulse: true, claims: 'granted' });
    log.pulseEnds();
    expect(log.check('stored').problems).toEqual([expect.stringContaining('the terminal logged refused/denied for it')]);
    expect(log.check('logged').problems).toEqual([expect.stringContaining('the terminal logged refused/denied for it')]);
    const unlogged = new TerminalLog();
    unlogged.decide('refused', { reason: 'denied', pulse: true, claims: 'granted', logDecision: false });
    unlogged.pulseEnds();
    expect(unlogged.check('stored').problems).toEqual([expect.stringContaining('the stored event is refused/denied')]);
  });

  it('reports a pulse without a stored grant', () => {
    const log = new TerminalLog();
    const lost = log.decide('granted', { store: false });
    log.pulseEnds();
    expect(log.check().problems).toEqual([expect.stringContaining(`no stored event ${lost.id}`)]);
  });

  it('reports a pulse with no logged decision when there is no central to ask, unless the boot was killed', () => {
    const clean = new TerminalLog('SIGTERM');
    clean.decide('granted', { logDecision: false });
    clean.pulseEnds();
    expect(clean.check('logged').problems).toEqual([expect.stringContaining('no logged decision')]);
    const killed = new TerminalLog('SIGKILL');
    killed.decide('granted', { logDecision: false });
    expect(killed.check('logged')).toMatchObject({ problems: [], killedWhileOn: 1 });
  });

  it('reports a second pulse for one event, a pulse that serves no event and a rise nobody asked for', () => {
    const twice = new TerminalLog();
    const grant = twice.decide('granted');
    twice.lines.push({ msg: 'relay.pulse', level: 30, lane: 'in', eventId: grant.id, seq: grant.seq, decision: 'granted', pulseMs: 50 });
    twice.pulseEnds();
    expect(twice.check().problems).toEqual([expect.stringContaining('was pulsed before')]);

    const none = new TerminalLog();
    none.lines.push({ msg: 'relay.pulse', level: 30, lane: 'in', eventId: null, seq: null, decision: null, pulseMs: 50, purpose: 'hardware-check' });
    none.rise();
    none.pulseEnds();
    expect(none.check().problems).toEqual([expect.stringContaining('it serves no event (hardware-check)')]);

    // A log from a terminal that only shows edges: the rise is unexplained.
    const edgesOnly = new TerminalLog();
    edgesOnly.decide('granted', { pulse: false });
    edgesOnly.rise();
    edgesOnly.pulseEnds();
    expect(edgesOnly.check().problems).toEqual([expect.stringContaining('the relay rose with no pulse request')]);
  });

  it('reports a relay left on after a clean stop, and counts a kill that caught it on', () => {
    const stopped = new TerminalLog('SIGINT');
    stopped.decide('granted');
    expect(stopped.check().problems).toEqual([expect.stringContaining('relay left on after a clean stop')]);
    const killed = new TerminalLog('SIGKILL');
    killed.decide('granted');
    expect(killed.check()).toMatchObject({ problems: [], killedWhileOn: 1 });
  });

  it('reads one terminal of a process that runs several', () => {
    const log = new TerminalLog();
    log.decide('refused', { pulse: true });
    const tagged = log.lines.map((l) => ({ ...l, terminalId: 'gate-a' }));
    const other = { msg: 'relay.pulse', level: 30, terminalId: 'gate-b', lane: 'in', eventId: null, decision: null, pulseMs: 50 };
    const proc = { lines: [...tagged, other] };
    expect(checkRelay([{ proc, ended: null }], { terminalId: 'gate-a', stored: log.stored }).problems).toEqual([
      expect.stringMatching(/^gate-a boot 1 .*relay pulse for seq 1 \(refused\)/),
    ]);
    expect(checkRelay([{ proc, ended: null }], { terminalId: 'gate-b' }).problems).toEqual([expect.stringContaining('it serves no event')]);
  });
});
