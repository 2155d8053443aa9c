import { describe, expect, it } from 'vitest';
import { uplinkConfigSchema, resolveUplinkPaths } from '../../../gateway/uplink/config.js';

const base = { url: 'mqtts://central.example:8883', username: 'gate-a-1', password: 'secret' };
const problems = (input: unknown) => {
  const result = uplinkConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('uplinkConfigSchema', () => {
  it('fills the documented defaults', () => {
    expect(uplinkConfigSchema.parse(base)).toEqual({
      ...base,
      rejectUnauthorized: true,
      batchSize: 100,
      maxInFlightBatches: 4,
      receipts: false, // our own central stores before its PUBACK
      receiptTimeoutMs: 120_000,
      telemetryIntervalMs: 30_000,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      keepaliveS: 30,
    });
  });

  it('refuses credentials in the URL, other protocols, unknown fields and inconsistent settings', () => {
    expect(problems({ ...base, url: 'mqtt://gate:secret@central.example' })).toEqual([
      'url: put credentials in "username" and "password", not in the URL',
    ]);
    expect(problems({ ...base, url: 'http://central.example' })[0]).toMatch(/^url: protocol must be mqtt: or mqtts:/);
    expect(problems({ ...base, pasword: 'typo' })[0]).toMatch(/^: Unrecognized key/);
    expect(problems({ ...base, batchSize: 201 })[0]).toMatch(/^batchSize:/);
    expect(problems({ ...base, receipts: 'yes' })[0]).toMatch(/^receipts:/);
    expect(problems({ ...base, receiptTimeoutMs: 999 })[0]).toMatch(/^receiptTimeoutMs:/);
    expect(problems({ ...base, reconnectMinMs: 5000, reconnectMaxMs: 1000 })).toEqual(['reconnectMaxMs: must be at least reconnectMinMs']);
    expect(problems({ ...base, cert: 'tls/client.crt' })).toEqual(['key: a client certificate needs both "cert" and "key"']);
    expect(problems({ ...base, url: 'mqtt://central.example', ca: 'tls/ca.pem' })).toEqual(['ca: TLS files need an mqtts:// url']);
  });

  it('names inconsistent settings even when other fields are bad too (found by fast-check)', () => {
    expect(problems({ ...base, key: null, reconnectMaxMs: 100 })).toEqual([
      'key: Invalid input: expected string, received null',
      'reconnectMaxMs: must be at least reconnectMinMs',
    ]);
    expect(problems({ ...base, url: 'mqtt://central.example', username: 7, ca: 'tls/ca.pem' })).toContain('ca: TLS files need an mqtts:// url');
    for (const partial of [null, 'x', 7, [], { url: 5, cert: 'c' }]) expect(problems(partial).length).toBeGreaterThan(0);
  });

  it('resolves TLS files against the config file', () => {
    const central = resolveUplinkPaths('/etc/qrgate/terminal.json', uplinkConfigSchema.parse({ ...base, ca: 'tls/ca.pem', cert: '/abs/c.crt', key: 'k.key' }));
    expect(central).toMatchObject({ ca: '/etc/qrgate/tls/ca.pem', cert: '/abs/c.crt', key: '/etc/qrgate/k.key' });
  });
});
