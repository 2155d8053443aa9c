import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTerminalConfig } from '../../gateway/config.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { useQrgateProcesses, type QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { withDeadline } from '../helpers/waitFor.js';

/**
 * One process at a time on a terminal's dataDir, each a real `qrgate` process: a second
 * terminal, `terminal --enroll` and `qrgate doctor` are refused while a terminal runs, and
 * told which process to stop; a SIGKILLed terminal leaves nothing to clear.
 */

const lane = { name: 'in', direction: 'in' as const, scanner: { type: 'sim' as const }, gpio: { type: 'sim' as const, outputs: { green: 17, red: 27, relay: 23 } } };

describe('a terminal holding its dataDir', () => {
  const tempDir = useTempDir('qrgate-terminal-lock-');
  const processes = useQrgateProcesses();

  async function refused(proc: QrgateProcess): Promise<string> {
    expect(await withDeadline(proc.exited, 30_000, 'the refused process to exit')).toEqual({ code: 1, signal: null });
    return proc.stderr.join('\n');
  }

  it('refuses a second terminal, terminal --enroll and doctor, naming its pid; a SIGKILLed terminal leaves no lock', async () => {
    const dir = tempDir();
    const site = createDemoSite(dir, { lanes: [lane] });
    const dataDir = loadTerminalConfig(site.configFile).dataDir;
    // A fresh device's hardware config pointed at the same folder, as a technician might.
    const hardwareConfig = join(dir, 'hw.json');
    writeFileSync(hardwareConfig, JSON.stringify({ dataDir: 'data', lanes: [lane] }));

    const first = processes.start(['terminal', '--config', site.configFile]);
    await first.waitForLine((l) => l.msg === 'terminal.ready');
    const held = `qrgate terminal (pid ${first.pid}) is running on ${dataDir} (dataDir is locked)`;

    const second = processes.start(['terminal', '--config', site.configFile]);
    expect(await refused(second)).toContain(`qrgate terminal: ${held}; stop it first (sudo systemctl stop qrgate-terminal)`);
    expect(second.linesWith('terminal.failed')[0]).toMatchObject({ err: { code: 'data-dir-locked' } });
    expect(second.linesWith('terminal.ready')).toHaveLength(0);

    const enrolling = processes.start(['terminal', '--enroll', '--config', hardwareConfig]);
    expect(await refused(enrolling)).toContain(`qrgate terminal: ${held}`);
    expect(enrolling.linesWith('enroll.waiting')).toHaveLength(0);

    const doctor = processes.start(['doctor', '--yes', '--json', '--config', site.configFile]);
    expect(await refused(doctor)).toContain(`qrgate doctor: ${held}; doctor needs the scanner, the GPIO lines and the central login to itself`);
    // Refused before touching anything: no report, no GPIO line driven.
    expect(doctor.lines).toEqual([]);

    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const third = processes.start(['terminal', '--config', site.configFile]);
    await third.waitForLine((l) => l.msg === 'terminal.ready');
  });

  it('doctor holds the dataDir for its run: a terminal started meanwhile is refused, naming doctor', async () => {
    const site = createDemoSite(tempDir(), { lanes: [lane] });
    const dataDir = loadTerminalConfig(site.configFile).dataDir;
    // Stdin held open and unanswered: doctor waits at its first question for as long as it takes.
    const doctor = processes.start(['doctor', '--config', site.configFile], 'pipe');
    await doctor.waitFor(() => doctor.stderr.find((line) => line.endsWith('[y/n]')), 30_000, "doctor's first question");

    const terminal = processes.start(['terminal', '--config', site.configFile]);
    expect(await refused(terminal)).toContain(`qrgate terminal: qrgate doctor (pid ${doctor.pid}) is running on ${dataDir} (dataDir is locked)`);
  });
});
