import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hardwareConfigSchema, terminalConfigSchema } from '../../gateway/config.js';
import { terminalNodeFlags } from '../../gateway/nodeFlags.js';

/**
 * The files a technician copies onto a Raspberry Pi (docs/deploy-raspberry-pi.md) must agree
 * with the program and with the example config the guide starts from.
 */
const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

/** `Key=value` lines of one unit section, a key repeated as often as it appears. */
function unitSettings(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('[') && line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

describe('deployment files', () => {
  const unit = unitSettings(read('deploy/systemd/qrgate-terminal.service'));
  const setting = (key: string) => unit.filter(([k]) => k === key).map(([, v]) => v);
  const example = terminalConfigSchema.parse(JSON.parse(read('docs/examples/terminal.pi.json')));

  it('the unit runs the built terminal with its node flags, as a service user, restarting always', () => {
    const [execStart] = setting('ExecStart');
    const words = execStart!.split(/\s+/);
    expect(words[0]).toBe('/usr/bin/node');
    for (const flag of terminalNodeFlags) expect(words.indexOf(flag)).toBeGreaterThan(0);
    expect(words.slice(-4)).toEqual(['/opt/qrgate/dist/cli/main.js', 'terminal', '--config', '/etc/qrgate/terminal.json']);
    expect(words.indexOf('/opt/qrgate/dist/cli/main.js')).toBeGreaterThan(words.indexOf(terminalNodeFlags[0]!));
    expect(setting('User')).toEqual(['qrgate']);
    expect(setting('Restart')).toEqual(['always']);
    expect(setting('KillSignal')).toEqual(['SIGTERM']);
    // cli/systemdNotify.ts sends READY=1 and watchdog pings from a helper process.
    expect(setting('Type')).toEqual(['notify']);
    expect(setting('NotifyAccess')).toEqual(['all']);
    expect(Number.parseInt(setting('WatchdogSec')[0]!, 10)).toBeGreaterThan(0);
  });

  it('the unit keeps the example config data folder writable and lets through GPIO, serial and HID devices', () => {
    expect(`/var/lib/${setting('StateDirectory')[0]}`).toBe(example.dataDir);
    expect(setting('ReadWritePaths')).toContain(example.dataDir);
    expect(setting('ProtectSystem')).toEqual(['strict']);
    expect(setting('DevicePolicy')).toEqual(['closed']);
    const allowed = setting('DeviceAllow').map((v) => v.split(/\s+/)[0]);
    expect(allowed).toEqual(expect.arrayContaining(['char-gpiochip', 'char-ttyACM', 'char-ttyUSB', 'char-ttyAMA', 'char-hidraw']));
    expect(setting('SupplementaryGroups')[0]!.split(/\s+/)).toEqual(expect.arrayContaining(['gpio', 'dialout', 'plugdev']));
    // The JIT needs writable code pages: this option would stop node at start.
    expect(setting('MemoryDenyWriteExecute')).toEqual([]);
  });

  it('the enrollment drop-in runs the same program with --enroll on a config in the writable state folder, the hardware example fits it', () => {
    const dropIn = unitSettings(read('deploy/systemd/qrgate-terminal.service.d/enroll.conf'));
    // An empty ExecStart= first: a drop-in adds to a list setting unless it resets it.
    expect(dropIn.filter(([k]) => k === 'ExecStart').map(([, v]) => v)).toEqual(['', expect.any(String)]);
    const words = dropIn.filter(([k]) => k === 'ExecStart')[1]![1].split(/\s+/);
    const [baseStart] = setting('ExecStart');
    expect(words.slice(0, -3)).toEqual(baseStart!.split(/\s+/).slice(0, -2));
    expect(words.slice(-3)).toEqual(['--enroll', '--config', '/var/lib/qrgate/terminal.json']);
    expect(setting('ReadWritePaths')).toContain('/var/lib/qrgate');
    const hardware = hardwareConfigSchema.parse(JSON.parse(read('docs/examples/hardware.pi.json')));
    expect(hardware.dataDir).toBe('/var/lib/qrgate');
    expect(hardware.lanes).toEqual(example.lanes); // the same wiring as the terminals-add example
  });

  it('the udev rule names the scanner the example config opens', () => {
    const rules = read('deploy/udev/99-qrgate-scanner.rules')
      .split('\n')
      .filter((line) => line.trim() && !line.trim().startsWith('#'));
    const serialLane = example.lanes.find((lane) => lane.scanner.type === 'serial');
    expect(serialLane?.scanner.type === 'serial' && serialLane.scanner.path).toBe('/dev/qrgate-scanner-in');
    expect(rules.some((rule) => rule.includes('SUBSYSTEM=="tty"') && rule.includes('SYMLINK+="qrgate-scanner-in"'))).toBe(true);
    expect(rules.some((rule) => rule.includes('SUBSYSTEM=="hidraw"') && rule.includes('GROUP="plugdev"'))).toBe(true);
  });
});
