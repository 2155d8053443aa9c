import { open } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { cccdQr } from '../../provisioning/samplePeople.js';
import { createCentralSite, qrgate } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { QrgateProcess, useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

interface Report {
  readonly ok: boolean;
  readonly checks: ReadonlyArray<{ check: string; status: 'PASS' | 'FAIL' | 'SKIP'; detail: string }>;
}

function serialLane(devicePath: string, suffix: '\r\n' | '' = '\r\n') {
  return {
    name: 'in',
    direction: 'in' as const,
    scanner: { type: 'serial' as const, path: devicePath, baudRate: 9600, suffix },
    gpio: { type: 'sim' as const, outputs: { green: 17, red: 27, buzzer: 22, relay: 23 } },
  };
}

describe('qrgate doctor against the simulated GPIO and a pty scanner', () => {
  const tempDir = useTempDir();
  const { track } = useQrgateProcesses();
  const closing: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  async function scannerPair() {
    const pair = await VirtualSerialPair.open();
    closing.push(() => pair.close());
    return pair;
  }

  const report = (proc: QrgateProcess): Report => proc.lines.find((l) => 'checks' in l) as unknown as Report;
  const row = (r: Report, check: string) => r.checks.find((c) => c.check === check);

  it('passes a healthy terminal: outputs confirmed, one scan read and named by type, list installed', async () => {
    const dir = tempDir();
    const pair = await scannerPair();
    const site = createDemoSite(dir, { lanes: [serialLane(pair.devicePath)] });
    const imported = track(new QrgateProcess(['lists', 'import', '--config', site.configFile, site.listFile]));
    expect((await imported.exited).code).toBe(0);

    const doctor = track(new QrgateProcess(['doctor', '--config', site.configFile, '--yes', '--json', '--scan-timeout', '30']));
    await waitFor(() => doctor.stderr.some((l) => l.includes('scan any')), 20_000, 'the scan prompt');
    const person = site.people.find((p) => p.status === 'allow')!;
    const pen = await open(pair.scannerPath, 'w');
    await pen.write(`${cccdQr(person)}\r\n`);
    await pen.close();
    const { code } = await doctor.exited;

    const r = report(doctor);
    expect(row(r, 'in: green')).toMatchObject({ status: 'PASS' });
    expect(row(r, 'in: relay')).toMatchObject({ status: 'PASS', detail: expect.stringContaining('line 23') });
    expect(row(r, 'in: scanner')).toMatchObject({ status: 'PASS', detail: expect.stringMatching(/9600 baud.*read a cccd code/) });
    expect(row(r, 'list demo-site')).toMatchObject({ status: 'PASS', detail: expect.stringContaining('version 1') });
    expect(row(r, 'central')).toMatchObject({ status: 'SKIP' });
    expect(row(r, 'disk')).toMatchObject({ status: 'PASS' });
    expect(row(r, 'outbox')).toMatchObject({ status: 'PASS' });
    // The clock row depends on the machine (systemd-timesyncd); the exit code follows the table.
    const failed = r.checks.filter((c) => c.status === 'FAIL');
    expect(failed.map((c) => c.check).filter((c) => c !== 'clock')).toEqual([]);
    expect(code).toBe(failed.length > 0 ? 1 : 0);
    expect(r.ok).toBe(failed.length === 0);
    // Never the raw ID number, anywhere in what the technician sees.
    const everything = [...doctor.stderr, ...doctor.lines.map((l) => JSON.stringify(l))].join('\n');
    expect(everything).not.toContain(person.idNumber);
  });

  it('fails with a reason for each problem: an LED not seen, a scanner that never frames, no list, no central', async () => {
    const dir = tempDir();
    const pair = await scannerPair();
    const site = createDemoSite(dir, { lanes: [serialLane(pair.devicePath)] });
    const config = JSON.parse(readFileSync(site.configFile, 'utf8'));
    config.central = { url: `mqtt://127.0.0.1:${await freePort()}`, username: 'demo-gate-1', password: 'not-the-secret' };
    writeFileSync(site.configFile, JSON.stringify(config));

    const doctor = track(new QrgateProcess(['doctor', '--config', site.configFile, '--scan-timeout', '2'], { stdin: 'pipe' }));
    // green yes, red no, buzzer yes, relay yes: typed ahead, read one per question.
    doctor.stdin.write('y\nn\ny\nyes\n');
    await waitFor(() => doctor.stderr.some((l) => l.includes('scan any')), 20_000, 'the scan prompt');
    // The module sends no suffix: the frame never ends.
    const pen = await open(pair.scannerPath, 'w');
    await pen.write(cccdQr(site.people[0]!));
    await pen.close();
    const { code } = await doctor.exited;
    expect(code).toBe(1);

    const table = doctor.lines.map((l) => String(l.text ?? '')).join('\n');
    expect(table).toMatch(/PASS\s+in: green/);
    expect(table).toMatch(/FAIL\s+in: red\s+line 27 pulsed, not seen/);
    expect(table).toMatch(/FAIL\s+in: scanner\s+serial .* at 9600 baud, suffix "\\r\\n": open, but no scan read/);
    expect(table).toMatch(/FAIL\s+list demo-site\s+none installed yet/);
    expect(table).toMatch(/FAIL\s+central\s+mqtt:\/\/127\.0\.0\.1:\d+: unreachable/);
    expect(table).toMatch(/checks FAILED/);
    expect(table).not.toContain('not-the-secret');
  });

  it("checks the central with the terminal's own credentials: PASS while registered, FAIL naming the removal after", async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, 0);
    const { proc: central } = await site.startCentral();
    track(central);
    const mqttPort = (central.linesWith('central.ready')[0]!.mqtt as { port: number }).port;
    const terminal = await site.addTerminal('gate-1');
    // createCentralSite wrote port 0 into the URL it handed out: point the terminal at the port the central chose.
    const config = JSON.parse(readFileSync(terminal.config, 'utf8'));
    config.central.url = `mqtt://127.0.0.1:${mqttPort}`;
    writeFileSync(terminal.config, JSON.stringify(config));

    const healthy = track(new QrgateProcess(['doctor', '--config', terminal.config, '--yes', '--json']));
    await healthy.exited;
    expect(row(report(healthy), 'central')).toMatchObject({ status: 'PASS', detail: expect.stringContaining('credentials accepted') });

    await qrgate(['terminals', 'remove', '--central-config', site.centralConfig, '--terminal-id', terminal.terminalId]);
    // The central admits logins from its copy of the registry, read at every revocation pass
    // (docs/central.md "Cut-off"): right after a removal by another process the copy may still
    // admit the terminal, until the next pass (1 s, plus the pass). From then on, doctor fails.
    const removed = await waitFor(
      async () => {
        const run = track(new QrgateProcess(['doctor', '--config', terminal.config, '--yes', '--json']));
        return (await run.exited).code === 0 ? null : run;
      },
      20_000,
      'doctor to fail once the central has read the removal',
      250,
    );
    expect((await removed.exited).code).toBe(1);
    expect(row(report(removed), 'central')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('terminal removed') });
  });
});

