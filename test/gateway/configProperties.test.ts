import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe } from 'vitest';
import { hardwareConfigSchema, loadHardwareConfig, loadTerminalConfig, terminalConfigSchema } from '../../gateway/config.js';
import { configPropertyTests } from '../helpers/configFuzz.js';

/**
 * The terminal config loader against damaged copies of the example configs (fast-check;
 * test/helpers/configFuzz.ts says what each property means). Each run: 3 configs x
 * (300 + 200 + 500) = 3,000 cases, and 500 for the hardware-only config.
 */

const RUNS = { anyDamage: 300, wrongKinds: 200, relational: 500 };
const example = (name: string): unknown => JSON.parse(readFileSync(resolve(import.meta.dirname, '../../docs/examples', name), 'utf8'));

/** The Pi example with every optional central field that a rule relates to another. */
const full = (() => {
  const pi = example('terminal.pi.json') as { central: Record<string, unknown> };
  return { ...pi, central: { ...pi.central, cert: 'keys/client.crt', key: 'keys/client.key', reconnectMinMs: 500, reconnectMaxMs: 30_000, batchSize: 100 } };
})();

const subjects: [string, unknown][] = [
  ['terminal.sim.json', example('terminal.sim.json')],
  ['terminal.pi.json', example('terminal.pi.json')],
  ['terminal.pi.json with client TLS and reconnect bounds', full],
];

describe.each(subjects)('terminal config %s under damage (fast-check)', (_name, valid) => {
  configPropertyTests({ valid, schema: terminalConfigSchema, load: loadTerminalConfig }, RUNS);
});

describe('hardware config hardware.pi.json (terminal --enroll) under damage (fast-check)', () => {
  configPropertyTests({ valid: example('hardware.pi.json'), schema: hardwareConfigSchema, load: loadHardwareConfig }, { anyDamage: 200, wrongKinds: 100, relational: 200 });
});
