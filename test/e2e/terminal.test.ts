import { open } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { cardQr, cccdQr, pcCovidQr } from '../../provisioning/samplePeople.js';
import { QrgateProcess, type LogLine } from '../helpers/qrgateProcess.js';
import { checkRelay } from '../helpers/relayCheck.js';
import { useTempDir } from '../helpers/tempDir.js';

const RELAY_PULSE_MS = 300;

function serialLane(devicePath: string) {
  return {
    name: 'in',
    direction: 'in' as const,
    scanner: { type: 'serial' as const, path: devicePath, baudRate: 9600, suffix: '\r\n' as const },
    gpio: { type: 'sim' as const, outputs: { green: 17, red: 27, buzzer: 22, relay: 23 } },
  };
}

async function runToCompletion(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = new QrgateProcess(args);
  const { code } = await proc.exited;
  return { code, stdout: proc.lines.map((l) => JSON.stringify(l)).join('\n'), stderr: proc.stderr.join('\n') };
}

describe('qrgate terminal — a real process on a pty scanner with simulated GPIO', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('decides every kind of scan, pulses the relay only for grants, and stops with the relay off', async () => {
    const dir = tempDir();
    const pair = await VirtualSerialPair.open();
    cleanups.push(() => pair.close());
    const site = createDemoSite(dir, { lanes: [serialLane(pair.devicePath)], policy: { relayPulseMs: RELAY_PULSE_MS } });

    const imported = await runToCompletion(['lists', 'import', '--config', site.configFile, site.listFile]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);

    const terminal = new QrgateProcess(['terminal', '--config', site.configFile]);
    cleanups.push(async () => {
      terminal.kill('SIGKILL');
      await terminal.exited;
    });
    const ready = await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    expect(ready).toMatchObject({ terminalId: 'demo-gate-1', lists: [{ scope: 'demo-site', version: 1 }] });

    const allowed = site.people.filter((p) => p.status === 'allow');
    const withCard = allowed.find((p) => p.cardId)!;
    const denied = site.people.find((p) => p.status === 'deny')!;
    const check = site.people.find((p) => p.status === 'check')!;
    const stranger = site.strangers[0]!;
    const scans: Array<{ bytes: string | Buffer; expect: Partial<LogLine> }> = [
      { bytes: cccdQr(allowed[0]!, 7), expect: { decision: 'granted', reason: 'allowed', credentialType: 'cccd' } },
      { bytes: cccdQr(allowed[0]!, 6), expect: { decision: 'duplicate', reason: 'debounce', credentialType: 'cccd' } },
      { bytes: cccdQr(allowed[1]!, 6), expect: { decision: 'granted', reason: 'allowed', credentialType: 'cccd' } },
      { bytes: pcCovidQr(allowed[2]!), expect: { decision: 'granted', reason: 'allowed', credentialType: 'pccovid' } },
      { bytes: cardQr(withCard), expect: { decision: 'granted', reason: 'allowed', credentialType: 'card' } },
      { bytes: cccdQr(denied), expect: { decision: 'refused', reason: 'denied' } },
      { bytes: cccdQr(check), expect: { decision: 'refused', reason: 'check-unattended' } },
      { bytes: cccdQr(stranger), expect: { decision: 'refused', reason: 'unknown' } },
      { bytes: 'WIFI:S:guest;T:WPA;P:12345678;;', expect: { decision: 'refused', reason: 'malformed', credentialType: 'unknown' } },
      { bytes: Buffer.from([0x00, 0xff, 0xfe, 0x41, 0x80]), expect: { decision: 'refused', reason: 'malformed' } },
      { bytes: 'A'.repeat(5000), expect: { decision: 'refused', reason: 'malformed' } },
      // typed IDs are for operators at a keyboard: from a scanner, bare digits are refused
      { bytes: allowed[3]!.idNumber, expect: { decision: 'refused', reason: 'malformed' } },
    ];

    const relay = () => terminal.linesWith('gpio.set').filter((l) => l.output === 'relay');
    const scanner = await open(pair.scannerPath, 'w');
    cleanups.push(() => scanner.close());
    let granted = 0;
    for (const [i, scan] of scans.entries()) {
      await scanner.write(Buffer.concat([Buffer.from(scan.bytes), Buffer.from('\r\n')]));
      const decided = await terminal.waitForCount('scan.decided', i + 1);
      expect(decided[i], `scan ${i}`).toMatchObject({ lane: 'in', direction: 'in', ...scan.expect });
      expect(decided[i]!.seq).toBe(i + 1);
      if (scan.expect.decision === 'granted') {
        granted += 1;
        // the pulse ends by itself after relayPulseMs
        await terminal.waitFor(() => (relay().filter((l) => l.value === 0).length === granted ? true : undefined), 10_000, 'relay pulse end');
      }
    }
    // one pulse per grant, none for anything else
    expect(relay().map((l) => l.value)).toEqual(Array.from({ length: granted }, () => [1, 0]).flat());
    expect(granted).toBe(4);

    // A queue at the glass: a grant, a stranger while the relay is still energised, another grant
    // that extends the pulse. Each grant asks for its own pulse; the refusal asks for none.
    const burst = [cccdQr(allowed[4]!, 7), cccdQr(site.strangers[1]!, 7), cccdQr(allowed[5]!, 7)];
    const risesBefore = relay().length;
    await scanner.write(burst.map((text) => `${text}\r\n`).join(''));
    const burstDecided = (await terminal.waitForCount('scan.decided', scans.length + burst.length)).slice(scans.length);
    expect(burstDecided.map((l) => `${String(l.decision)}/${String(l.reason)}`)).toEqual(['granted/allowed', 'refused/unknown', 'granted/allowed']);
    await terminal.waitFor(() => (relay().length > risesBefore && relay().at(-1)!.value === 0 ? true : undefined), 10_000, 'the burst pulse end');

    // latency is measured for every scan that moved an output
    for (const line of terminal.linesWith('scan.decided').filter((l) => l.decision !== 'duplicate')) {
      expect(line.latencyMs).toEqual(expect.any(Number));
    }

    // no raw ID number anywhere in what the terminal said
    const everything = terminal.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const person of [...allowed.slice(0, 4), denied, check, stranger]) expect(everything).not.toContain(person.idNumber);

    terminal.kill('SIGTERM');
    expect(await terminal.exited).toEqual({ code: 0, signal: null });
    expect(terminal.linesWith('terminal.stopped')).toHaveLength(1);
    // Every pulse request served a logged grant, the refusals none, and the relay is off.
    const report = checkRelay([{ proc: terminal, ended: 'SIGTERM' }]);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ pulses: 6, refusals: 9 });
  });

  it('refuses to start on an invalid config, naming every bad field and touching no hardware', async () => {
    const dir = tempDir();
    const site = createDemoSite(dir);
    const config = JSON.parse(readFileSync(site.configFile, 'utf8'));
    config.checkpoint.code = '12345678901234';
    config.lanes[0].direction = 'up';
    config.policy.relayPulseMs = -5;
    writeFileSync(site.configFile, JSON.stringify(config));

    const result = await runToCompletion(['terminal', '--config', site.configFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('checkpoint.code');
    expect(result.stderr).toContain('lanes[0].direction');
    expect(result.stderr).toContain('policy.relayPulseMs');
    expect(result.stdout).not.toContain('gpio.set');
  });

  it('refuses onoff GPIO where /sys/class/gpio is absent, with the relay never energised', async () => {
    const dir = tempDir();
    const site = createDemoSite(dir, {
      lanes: [{ name: 'in', direction: 'in', scanner: { type: 'sim' }, gpio: { type: 'onoff', chip: 'gpiochip0', outputs: { relay: 23 } } }],
    });
    const result = await runToCompletion(['terminal', '--config', site.configFile]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('/sys/class/gpio');
  });
});
