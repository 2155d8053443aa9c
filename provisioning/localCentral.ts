import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CentralConfigInput } from '../broker/config.js';
import { generateKeyFiles } from '../protocol/keys.js';

/**
 * A central's folder as an operator sets it up — key files, then `central.json` with
 * relative paths — on loopback with every port 0 unless overridden. The demo, the
 * benchmarks and the tests all stand a central on this; production configs are written
 * by hand (docs/central.md).
 */
export function writeLocalCentral(dir: string, overrides: Partial<CentralConfigInput> = {}): string {
  generateKeyFiles(join(dir, 'keys'));
  const config: CentralConfigInput = {
    dataDir: 'central-data',
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    store: { type: 'sqlite' },
    keys: { authorityKey: 'keys/authority.key', refKey: 'keys/ref.key' },
    lab: false,
    ...overrides,
  };
  const file = join(dir, 'central.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}
