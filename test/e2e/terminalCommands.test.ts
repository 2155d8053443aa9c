import { describe, expect, it } from 'vitest';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import type { TerminalCommand } from '../../broker/store/centralStore.js';
import { createLogger } from '../../protocol/logger.js';
import { storedEvents } from '../helpers/centralApi.js';
import { createCentralSite, type CentralSite } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { QrgateProcess, useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { checkRelay } from '../helpers/relayCheck.js';
import { TcpProxy } from '../helpers/tcpProxy.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * `qrgate terminals command` with real processes (issue 15 point 6): a `qrgate central`, a
 * `qrgate terminal` with a simulated relay, and the CLI writing into the central's store.
 * The store is the queue and the terminal's ack on `…/cmd-acks` closes a command: it is
 * delivered when the terminal connects within its expiry, survives the central being
 * SIGKILLed, is sent again when an ack is lost, and an `open` sent twice pulses once.
 */

interface Answer {
  readonly id: string;
  readonly terminalId: string;
  readonly name: string;
  readonly state: 'executed' | 'ignored' | 'expired' | 'queued';
  readonly reason?: string;
  readonly eventId?: string;
  readonly attempts: number;
  readonly issuedAt: string;
}

const quickReconnect = { reconnectMinMs: 100, reconnectMaxMs: 400 };

/** Each test starts a dozen qrgate processes (site, central, terminal, CLI): ~2 s each on a loaded 2-core machine. */
const e2eTimeoutMs = 240_000;

describe('qrgate terminals command: queued in the store, acknowledged by the terminal', () => {
  const tempDir = useTempDir('qrgate-commands-');
  const { start, track } = useQrgateProcesses();

  /** Runs the command to its end with --json; its answer, exit code and stderr. */
  async function command(site: CentralSite, terminalId: string, args: readonly string[]): Promise<{ code: number | null; answer: Answer | undefined; stderr: string }> {
    const proc = track(new QrgateProcess(['terminals', 'command', '--central-config', site.centralConfig, '--terminal', terminalId, ...args, '--json']));
    const { code } = await proc.exited;
    return { code, answer: proc.lines.find((l) => 'state' in l) as Answer | undefined, stderr: proc.stderr.join('\n') };
  }

  /** A command's row as the store holds it, read as the CLI reads it. */
  function storedCommand(site: CentralSite, id: string): Promise<TerminalCommand | null> {
    return withCentralStore(loadCentralConfig(site.centralConfig), { logger: createLogger({ level: 'silent' }) }, (store) => store.getCommand(id));
  }

  it('opens the gate (one relay pulse, recorded with who and why), answers a ping, reports an unknown lane (exit 1)', async () => {
    const site = await createCentralSite(tempDir(), 0, { people: 1 });
    const central = await site.startCentral();
    track(central.proc);
    const gate = await site.addTerminal('gate', { url: `mqtt://127.0.0.1:${central.mqttPort}` });
    const terminal = start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'uplink.connected');

    const opened = await command(site, gate.terminalId, ['open', '--reason', 'xe cứu thương vào']);
    expect(opened).toMatchObject({ code: 0, answer: { name: 'open', state: 'executed', terminalId: gate.terminalId, eventId: expect.any(String) } });
    const pulse = await terminal.waitForLine((l) => l.msg === 'relay.pulse');
    expect(pulse).toMatchObject({ eventId: opened.answer!.eventId, decision: 'granted' });
    // Printed, not asserted (a loaded machine is not a benchmark): queued by the CLI -> the relay moving.
    console.log(`terminals command: open queued -> relay pulse ${Date.parse(String(pulse.time)) - Date.parse(opened.answer!.issuedAt)} ms`);
    const remote = await waitFor(async () => (await storedEvents(central.api, gate.terminalId)).find((e) => e.id === opened.answer!.eventId), 10_000, 'the remote open in the store');
    expect(remote).toMatchObject({ decision: 'granted', reason: 'remote-open', note: 'xe cứu thương vào', answeredBy: expect.stringMatching(/^cli:/) });

    expect(await command(site, gate.terminalId, ['ping'])).toMatchObject({ code: 0, answer: { name: 'ping', state: 'executed' } });
    expect(await command(site, gate.terminalId, ['open', '--lane', 'side-door'])).toMatchObject({ code: 1, answer: { state: 'ignored', reason: 'unknown-lane' } });

    // One pulse in all, for the stored grant, and nothing else moved the relay.
    const report = checkRelay([{ proc: terminal, ended: null }], { stored: await storedEvents(central.api, gate.terminalId) });
    expect(report).toMatchObject({ pulses: 1, problems: [] });
  }, e2eTimeoutMs);

  it('delivers a command to a terminal that connects within its expiry, and reports one that expired undelivered (exit 3)', async () => {
    const site = await createCentralSite(tempDir(), 0, { people: 1 });
    const central = await site.startCentral();
    track(central.proc);
    const gate = await site.addTerminal('gate', { url: `mqtt://127.0.0.1:${central.mqttPort}`, central: quickReconnect });

    // Waiting for a terminal that is not there yet: queued, then delivered when it comes.
    const waiting = track(new QrgateProcess(['terminals', 'command', '--central-config', site.centralConfig, '--terminal', gate.terminalId, 'ping', '--ttl', '120']));
    await waiting.waitForLine((l) => String(l.text ?? '').includes(`queued for terminal ${gate.terminalId}`));
    const terminal = start(['terminal', '--config', gate.config], 'pipe');
    expect((await waiting.exited).code).toBe(0);
    expect(waiting.lines.map((l) => String(l.text)).at(-1)).toBe(`terminal ${gate.terminalId} executed ping`);
    await terminal.waitForLine((l) => l.msg === 'command.executed' && l.name === 'ping');

    terminal.kill('SIGTERM');
    await terminal.exited;
    const expired = await command(site, gate.terminalId, ['ping', '--ttl', '1']);
    expect(expired).toMatchObject({ code: 3, answer: { state: 'expired', attempts: 0 } });
    // Expired commands are never delivered: the terminal back finds nothing to run.
    const back = start(['terminal', '--config', gate.config], 'pipe');
    await back.waitForLine((l) => l.msg === 'uplink.connected');
    expect(await command(site, gate.terminalId, ['ping'])).toMatchObject({ code: 0, answer: { state: 'executed' } });
    expect(back.linesWith('command.executed').map((l) => l.id)).not.toContain(expired.answer!.id);
    expect(back.linesWith('command.ignored')).toEqual([]);
  }, e2eTimeoutMs);

  it('delivers an open queued while the central was SIGKILLed, once it is back, with one pulse', async () => {
    const site = await createCentralSite(tempDir(), await freePort(), { people: 1 });
    let central = await site.startCentral();
    track(central.proc);
    const gate = await site.addTerminal('gate', { central: quickReconnect });
    const terminal = start(['terminal', '--config', gate.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'uplink.connected');
    central.proc.kill('SIGKILL');
    await central.proc.exited;
    await terminal.waitForLine((l) => l.msg === 'uplink.disconnected');

    const queued = await command(site, gate.terminalId, ['open', '--reason', 'sau khi khởi động lại', '--ttl', '120', '--no-wait']);
    expect(queued).toMatchObject({ code: 0, answer: { state: 'queued', attempts: 0 } });
    central = await site.startCentral();
    track(central.proc);
    const pulse = await terminal.waitForLine((l) => l.msg === 'relay.pulse');
    const row = await waitFor(async () => (await storedCommand(site, queued.answer!.id))?.ack, 20_000, 'the ack recorded');
    expect(row).toMatchObject({ outcome: 'executed', eventId: pulse.eventId });
    const stored = await waitFor(async () => {
      const events = await storedEvents(central.api, gate.terminalId);
      return events.some((e) => e.id === pulse.eventId) ? events : undefined;
    }, 20_000, 'the remote open in the store');
    expect(checkRelay([{ proc: terminal, ended: null }], { stored })).toMatchObject({ pulses: 1, problems: [] });
  }, e2eTimeoutMs);

  it('sends an open again when its ack is lost with the connection; the terminal answers the copy without a second pulse', async () => {
    const site = await createCentralSite(tempDir(), 0, { people: 1 });
    const central = await site.startCentral();
    track(central.proc);
    const proxy = await TcpProxy.start({ targetPort: central.mqttPort });
    try {
      const gate = await site.addTerminal('gate', { url: `mqtt://127.0.0.1:${proxy.port}`, central: quickReconnect });
      const terminal = start(['terminal', '--config', gate.config], 'pipe');
      // A ping answered: the terminal is subscribed to its commands.
      expect(await command(site, gate.terminalId, ['ping'])).toMatchObject({ code: 0, answer: { state: 'executed' } });

      // Terminal -> central goes silent: the open arrives and runs, its ack never leaves.
      proxy.stall('up');
      const queued = await command(site, gate.terminalId, ['open', '--ttl', '120', '--no-wait']);
      const pulse = await terminal.waitForLine((l) => l.msg === 'relay.pulse');
      await terminal.waitForLine((l) => l.msg === 'command.executed' && l.id === queued.answer!.id);
      proxy.cut(); // the held ack dies with the connection
      proxy.restore();

      const ack = await waitFor(async () => (await storedCommand(site, queued.answer!.id))?.ack, 20_000, 'the ack of the copy recorded');
      expect(ack).toMatchObject({ outcome: 'executed', eventId: pulse.eventId });
      const sent = central.proc.linesWith('command.sent').filter((l) => l.id === queued.answer!.id);
      expect(sent.map((l) => l.resend)).toEqual([false, true]);
      expect(terminal.linesWith('command.ignored')).toEqual([expect.objectContaining({ reason: 'duplicate', id: queued.answer!.id })]);
      const stored = await waitFor(async () => {
        const events = await storedEvents(central.api, gate.terminalId);
        return events.some((e) => e.id === pulse.eventId) ? events : undefined;
      }, 20_000, 'the remote open in the store');
      expect(checkRelay([{ proc: terminal, ended: null }], { stored })).toMatchObject({ pulses: 1, problems: [] });
    } finally {
      await proxy.close();
    }
  }, e2eTimeoutMs);
});
