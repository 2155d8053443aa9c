import { describe } from 'vitest';
import { centralConfigSchema, loadCentralConfig } from '../../broker/config.js';
import { configPropertyTests } from '../helpers/configFuzz.js';

/**
 * The central config loader against damaged copies of valid configs (fast-check;
 * test/helpers/configFuzz.ts says what each property means). Each run: 2 configs x
 * (300 + 200 + 200) = 1,400 cases.
 */

const RUNS = { anyDamage: 300, wrongKinds: 200, relational: 200 };

/** DESIGN.md's example, with every section written out. */
const designExample = {
  dataDir: '/var/lib/qrgate-central',
  mqtt: { host: '0.0.0.0', port: 1883, tls: { port: 8883, cert: 'tls/server.crt', key: 'tls/server.key' }, maxPacketBytes: 262_144, queueLimit: 42 },
  http: { host: '127.0.0.1', port: 8080 },
  store: { type: 'sqlite' },
  keys: { authorityKey: 'keys/authority.key', refKey: 'keys/ref.key' },
  ingest: { commitDelayMs: 5, commitMaxEvents: 2000 },
  log: { level: 'info' },
  lab: false,
};
const postgres = { dataDir: 'data', store: { type: 'postgres', url: 'postgres://db/qrgate' }, keys: { authorityKey: 'a', refKey: 'r' } };

describe.each([
  ['the design example', designExample],
  ['a minimal postgres config', postgres],
])('central config, %s, under damage (fast-check)', (_name, valid) => {
  configPropertyTests({ valid, schema: centralConfigSchema, load: loadCentralConfig }, RUNS);
});
