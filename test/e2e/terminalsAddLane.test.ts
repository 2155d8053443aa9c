import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cccdQr } from '../../provisioning/samplePeople.js';
import { createCentralSite, qrgate } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * A newcomer's first terminal, as `terminals add` writes it and not edited at all: it runs,
 * reads a QR fed on its stdin, and decides. The command says how to move the lane to the
 * real scanner and GPIO.
 */
describe('the lane `terminals add` writes', () => {
  const tempDir = useTempDir('qrgate-terminals-add-');
  const processes = useQrgateProcesses();

  it('decides a QR fed on stdin to the terminal exactly as written, and the command says how to switch to real hardware', async () => {
    const dir = tempDir();
    // The central is not running: the terminal decides offline and its uplink retries quietly.
    const site = await createCentralSite(dir, await freePort(), { people: 3 });
    const { code } = JSON.parse(await qrgate(['checkpoints', 'create', '--central-config', site.centralConfig, '--name', 'Cổng phụ', '--direction', 'in', '--confirm', 'auto', '--json'])) as {
      code: string;
    };
    const configFile = join(dir, 'gate', 'terminal.json');
    const printed = await qrgate(['terminals', 'add', '--central-config', site.centralConfig, '--checkpoint', code, '--url', `mqtt://127.0.0.1:${site.mqttPort}`, '--out', configFile]);
    expect(printed).toContain('the lane reads QR text on stdin');
    expect(printed).toMatch(/"scanner" to \{"type":"serial".*\n.*\{"type":"hid".*"gpio" to \{"type":"onoff"/);
    await qrgate(['lists', 'import', '--config', configFile, join(dir, 'default.qgl')]);

    const terminal = processes.start(['terminal', '--config', configFile], 'pipe');
    const ready = await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    expect(ready.lanes).toEqual([{ name: 'in', direction: 'in', scanner: 'stdin', gpio: 'sim' }]);

    const person = { idNumber: site.people[0]!, name: 'Nguyễn Văn An', cardId: null, status: 'allow' as const };
    terminal.stdin.write(`${cccdQr(person)}\n`);
    const decided = await terminal.waitForLine((l) => l.msg === 'scan.decided');
    expect(decided).toMatchObject({ lane: 'in', decision: 'granted', reason: 'allowed', credentialType: 'cccd' });
    await terminal.waitForLine((l) => l.msg === 'gpio.set' && l.output === 'relay' && l.value === 1);

    terminal.stdin.write(`${cccdQr({ ...person, idNumber: '046099999999', name: 'Trần Thị Bình' })}\n`);
    const refused = await terminal.waitForCount('scan.decided', 2);
    expect(refused[1]).toMatchObject({ decision: 'refused', reason: 'unknown' });
  });
});
