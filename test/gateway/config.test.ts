import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTerminalConfig } from '../../gateway/config.js';
import { ConfigError } from '../../protocol/configFile.js';
import { useTempDir } from '../helpers/tempDir.js';

const examplesDir = resolve(import.meta.dirname, '../../docs/examples');

describe('terminal config', () => {
  const tempDir = useTempDir();

  it.each(readdirSync(examplesDir).filter((f) => f.startsWith('terminal.')))('accepts the example %s', (file) => {
    const config = loadTerminalConfig(join(examplesDir, file));
    expect(config.lanes.length).toBeGreaterThan(0);
    // relative paths resolve against the config file's folder
    expect(config.keys.refKey).toBe(join(examplesDir, 'keys/ref.key'));
    expect(Object.isFrozen(config.policy)).toBe(true);
  });

  it('fills defaults and derives attended from manual confirmation', () => {
    const file = join(tempDir(), 'terminal.json');
    writeFileSync(
      file,
      JSON.stringify({
        terminalId: 'gate-1',
        checkpoint: { code: '10000000000008', name: 'Gate', confirm: 'manual' },
        dataDir: '/var/lib/qrgate',
        keys: { listPublicKeys: ['a.pub'], refKey: 'ref.key' },
        lists: ['site-a'],
        lanes: [{ name: 'in', direction: 'in', scanner: { type: 'sim' }, gpio: { type: 'sim', outputs: { relay: 4 } } }],
      }),
    );
    const config = loadTerminalConfig(file);
    expect(config.policy).toMatchObject({ debounceMs: 3000, relayPulseMs: 1000, onStaleList: 'deny', antiPassback: 'off' });
    expect(config.lanes[0]).toMatchObject({ confirm: 'manual', attended: true });
    expect(config.storage.powerLossSafe).toBe(false);
  });

  it('refuses a bad file naming every bad field at once', () => {
    const file = join(tempDir(), 'terminal.json');
    writeFileSync(
      file,
      JSON.stringify({
        terminalId: 'gate/1#',
        checkpoint: { code: '10000000000009', name: 'Gate' },
        dataDir: 'data',
        keys: { listPublicKeys: [], refKey: 'ref.key' },
        lists: ['site-a'],
        lanes: [
          { name: 'in', direction: 'sideways', scanner: { type: 'serial' }, gpio: { type: 'sim' } },
          { name: 'in', direction: 'out', confirm: 'manual', attended: false, scanner: { type: 'sim' }, gpio: { type: 'sim' } },
        ],
        policy: { debounceMS: 100 },
      }),
    );
    let error: unknown;
    try {
      loadTerminalConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const field of [
      'terminalId:',
      'checkpoint.code:',
      'keys.listPublicKeys:',
      'lanes[0].direction:',
      'lanes[0].scanner',
      'lanes[1].name: duplicate lane name',
      'lanes[1].attended: a manual-confirm lane needs an operator',
      'policy:',
    ]) {
      expect(problems).toContain(field);
    }
    expect(problems).toMatch(/debounceMS/);
  });

  it('refuses a file that is not JSON, or missing, with the reason', () => {
    const file = join(tempDir(), 'terminal.json');
    writeFileSync(file, '{ "terminalId": ');
    expect(() => loadTerminalConfig(file)).toThrow(/not valid JSON/);
    expect(() => loadTerminalConfig(join(tempDir(), 'absent.json'))).toThrow(/cannot read the file: ENOENT/);
  });
});
