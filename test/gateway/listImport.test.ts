import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTerminalConfig } from '../../gateway/config.js';
import { ListCache } from '../../gateway/listCache.js';
import { importListFile } from '../../gateway/listImport.js';
import { generateKeyFiles } from '../../protocol/keys.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { refHasherFor, writeList } from '../helpers/lists.js';
import { useTempDir } from '../helpers/tempDir.js';

function setUp(dir: string) {
  const site = createDemoSite(dir, { people: 10 });
  const config = loadTerminalConfig(site.configFile);
  const keysDir = join(dir, 'keys');
  const hash = refHasherFor(keysDir);
  const ref = (id: string) => hash('citizen', id);
  const lookup = (id: string) => {
    const cache = new ListCache(config.dataDir);
    try {
      return cache.lookup(ref(id)).map((e) => `${e.scope}@${e.listVersion}:${e.status}`);
    } finally {
      cache.close();
    }
  };
  return { config, keysDir, ref, lookup, list: (name: string) => join(dir, name) };
}

describe('lists import', () => {
  const tempDir = useTempDir();

  it('installs a snapshot, treats the same version again as no change, and applies a delta on its base', () => {
    const { config, keysDir, ref, lookup, list } = setUp(tempDir());
    writeList(keysDir, list('v1'), { version: 1 }, [
      { ref: ref('046000000001'), status: 'allow' },
      { ref: ref('046000000002'), status: 'deny' },
    ]);
    expect(importListFile(config, list('v1'))).toMatchObject({ version: 1, previousVersion: null, entries: 2, changed: true });
    expect(importListFile(config, list('v1'))).toMatchObject({ version: 1, changed: false });
    expect(lookup('046000000001')).toEqual(['demo-site@1:allow']);

    writeList(keysDir, list('d2'), { version: 2, kind: 'delta', baseVersion: 1 }, [
      { ref: ref('046000000001'), status: 'check' },
      { ref: ref('046000000002'), status: 'remove' },
      { ref: ref('046000000003'), status: 'allow' },
    ]);
    expect(importListFile(config, list('d2'))).toMatchObject({ version: 2, previousVersion: 1, entries: 2 });
    expect(lookup('046000000001')).toEqual(['demo-site@2:check']);
    expect(lookup('046000000002')).toEqual([]);
    expect(lookup('046000000003')).toEqual(['demo-site@2:allow']);

    // A format 2 delta: a card revoked is stored and answered as revoked, not as deny.
    writeList(keysDir, list('d3'), { version: 3, kind: 'delta', baseVersion: 2 }, [{ ref: ref('046000000003'), status: 'revoked' }]);
    expect(importListFile(config, list('d3'))).toMatchObject({ version: 3, previousVersion: 2 });
    expect(lookup('046000000003')).toEqual(['demo-site@3:revoked']);
  });

  it('refuses a tampered, foreign, rolled-back, expired or base-less list and keeps the installed one', () => {
    const { config, keysDir, ref, lookup, list } = setUp(tempDir());
    writeList(keysDir, list('v2'), { version: 2 }, [{ ref: ref('046000000001'), status: 'allow' }]);
    importListFile(config, list('v2'));

    const tampered = readFileSync(list('v2'));
    tampered[tampered.length - 100]! ^= 0x01;
    writeFileSync(list('tampered'), tampered);
    expect(() => importListFile(config, list('tampered'))).toThrow(expect.objectContaining({ code: 'bad-signature' }));

    const otherKeys = join(tempDir(), 'other');
    generateKeyFiles(otherKeys);
    writeList(otherKeys, list('forged'), { version: 3 }, [{ ref: ref('046000000009'), status: 'allow' }]);
    expect(() => importListFile(config, list('forged'))).toThrow(expect.objectContaining({ code: 'unknown-key' }));

    writeList(keysDir, list('scope'), { version: 3, scope: 'other-site' }, []);
    expect(() => importListFile(config, list('scope'))).toThrow(expect.objectContaining({ code: 'wrong-scope' }));

    writeList(keysDir, list('v1'), { version: 1 }, []);
    expect(() => importListFile(config, list('v1'))).toThrow(expect.objectContaining({ code: 'rollback' }));

    const day = 86_400_000;
    writeList(keysDir, list('expired'), { version: 4, issuedAt: new Date(Date.now() - 9 * day).toISOString(), expiresAt: new Date(Date.now() - day).toISOString() }, []);
    expect(() => importListFile(config, list('expired'))).toThrow(expect.objectContaining({ code: 'expired', message: expect.stringContaining('version 4 expired at') }));

    writeList(keysDir, list('d5'), { version: 5, kind: 'delta', baseVersion: 4 }, []);
    expect(() => importListFile(config, list('d5'))).toThrow(expect.objectContaining({ code: 'base-missing' }));

    expect(lookup('046000000001')).toEqual(['demo-site@2:allow']);
  });

  it('is seen by a running terminal: its list cache notices the import and answers from the new version', () => {
    const { config, keysDir, ref, list } = setUp(tempDir());
    const ids = Array.from({ length: 500 }, (_, i) => `0460${String(i).padStart(8, '0')}`);
    writeList(keysDir, list('v1'), { version: 1 }, ids.map((id) => ({ ref: ref(id), status: 'allow' as const })));
    writeList(keysDir, list('v2'), { version: 2 }, ids.map((id) => ({ ref: ref(id), status: 'deny' as const })));
    importListFile(config, list('v1'));

    // the scan path's connection, open while another process imports
    const running = new ListCache(config.dataDir);
    try {
      expect(running.lookup(ref(ids[7]!))).toEqual([expect.objectContaining({ listVersion: 1, status: 'allow' })]);
      expect(importListFile(config, list('v2'))).toMatchObject({ version: 2, previousVersion: 1, kind: 'snapshot', entries: 500 });
      expect(running.installed().get('demo-site')).toMatchObject({ version: 2, entryCount: 500 });
      expect(running.lookup(ref(ids[7]!))).toEqual([expect.objectContaining({ listVersion: 2, status: 'deny' })]);
    } finally {
      running.close();
    }
  });
});
