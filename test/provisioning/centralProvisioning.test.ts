import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { describe, it, expect } from 'vitest';
import { verifySecret } from '../../broker/auth/secrets.js';
import { Central } from '../../broker/central.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { run as checkpoints } from '../../cli/commands/checkpoints.js';
import { run as terminals } from '../../cli/commands/terminals.js';
import { UsageError } from '../../cli/command.js';
import { loadTerminalConfig } from '../../gateway/config.js';
import { parseCheckpointCode } from '../../protocol/checkpointCode.js';
import { keyId, loadPublicKey, loadAuthorityPrivateKey } from '../../protocol/keys.js';
import { terminalTopic } from '../../protocol/topics.js';
import { createCheckpoint } from '../../broker/registry/checkpoints.js';
import { TerminalProvisioningError } from '../../broker/registry/terminalProvisioning.js';
import { addTerminal } from '../../provisioning/terminals.js';
import { batch, scanEvents } from '../broker/mqtt/fixtures.js';
import { writeCentralSite } from '../broker/mqtt/centralFixture.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { useTestStore } from '../helpers/sqliteStore.js';
import { useTempDir } from '../helpers/tempDir.js';
import { centralApi, getJson } from '../helpers/centralApi.js';
import { cliContext } from '../helpers/cliContext.js';


describe('central provisioning: checkpoints create, terminals add', () => {
  const tempDir = useTempDir('qrgate-provisioning-');
  const testStore = useTestStore();

  async function site() {
    const dir = tempDir();
    const centralConfig = writeCentralSite(dir);
    const c = cliContext(['create', '--central-config', centralConfig, '--name', 'Cổng chính', '--direction', 'both', '--confirm', 'auto', '--json']);
    expect(await checkpoints(c.ctx)).toBe(0);
    const { code } = JSON.parse(c.out()) as { code: string };
    return { dir, centralConfig, code, config: loadCentralConfig(centralConfig) };
  }

  it('checkpoints create registers a valid code and prints it once (or one JSON object)', async () => {
    const s = await site();
    expect(parseCheckpointCode(s.code)).toBe(s.code);
    const human = cliContext(['--central-config', s.centralConfig, '--name', 'Gate B', '--direction', 'in', '--confirm', 'manual']);
    expect(await checkpoints(human.ctx)).toBe(0);
    const [, code] = /checkpoint (\d{14}) created: "Gate B", direction in, confirm manual\n$/.exec(human.out()) ?? [];
    expect(code).toBeDefined();
    const stored = await withCentralStore(s.config, { logger: silentLogger() }, (store) => Promise.all([store.getCheckpoint(s.code), store.getCheckpoint(code!)]));
    expect(stored).toMatchObject([
      { name: 'Cổng chính', direction: 'both', confirm: 'auto', retiredAt: null },
      { name: 'Gate B', direction: 'in', confirm: 'manual' },
    ]);
  });

  it('checkpoints create draws again when a code is taken', async () => {
    const store = await testStore();
    const codes = ['10000000000008', '10000000000008', '20000000000004'];
    await createCheckpoint(store, { name: 'A', direction: 'in', confirm: 'auto' }, () => codes.shift()!);
    const second = await createCheckpoint(store, { name: 'B', direction: 'out', confirm: 'auto' }, () => codes.shift()!);
    expect(second.code).toBe('20000000000004');
  });

  it('checkpoints create refuses bad options as usage errors', async () => {
    const s = await site();
    await expect(checkpoints(cliContext(['--central-config', s.centralConfig, '--name', 'X', '--direction', 'sideways', '--confirm', 'auto']).ctx)).rejects.toThrow(UsageError);
    await expect(checkpoints(cliContext(['--central-config', s.centralConfig, '--direction', 'in', '--confirm', 'auto']).ctx)).rejects.toThrow('missing --name');
    await expect(checkpoints(cliContext(['retire', '--central-config', s.centralConfig]).ctx)).rejects.toThrow(UsageError);
  });

  it('terminals add writes a complete, valid, 0600 config with its keys, and prints no secret', async () => {
    const s = await site();
    const outDir = join(tempDir(), 'gate-1');
    mkdirSync(outDir);
    const out = join(outDir, 'terminal.json');
    const c = cliContext(['add', '--central-config', s.centralConfig, '--checkpoint', s.code, '--url', 'mqtt://central.example:1883', '--out', out, '--json']);
    expect(await terminals(c.ctx)).toBe(0);
    const printed = JSON.parse(c.out()) as { terminalId: string; config: string };
    expect(printed).toEqual({ terminalId: expect.stringMatching(/^t-[0-9a-f]{10}$/), config: out });

    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(outDir).sort()).toEqual(['keys', 'terminal.json']); // no temp file left
    const config = loadTerminalConfig(out); // the gateway's own loader and schema
    expect(config).toMatchObject({
      terminalId: printed.terminalId,
      checkpoint: { code: s.code, name: 'Cổng chính', confirm: 'auto' },
      keys: { listPublicKeys: [join(outDir, 'keys/authority.pub')], refKey: join(outDir, 'keys/ref.key') },
      lists: ['default'],
      lanes: [{ scanner: { type: 'stdin' }, gpio: { type: 'sim', outputs: { relay: 23 } } }],
      central: { url: 'mqtt://central.example:1883', username: printed.terminalId },
    });
    const secret = config.central!.password;
    expect(Buffer.from(secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(c.out() + c.err()).not.toContain(secret);

    // The key files are the central's keys, the secret is stored as a hash that matches it.
    expect(keyId(loadPublicKey(config.keys.listPublicKeys[0]!))).toBe(keyId(loadAuthorityPrivateKey(s.config.keys.authorityKey)));
    expect(readFileSync(config.keys.refKey)).toEqual(readFileSync(s.config.keys.refKey));
    expect(statSync(config.keys.refKey).mode & 0o777).toBe(0o600);
    const stored = await withCentralStore(s.config, { logger: silentLogger() }, (store) => store.getTerminalCredentials(printed.terminalId));
    expect(stored).toMatchObject({ checkpointCode: s.code, removedAt: null, listScopes: ['default'] });
    expect(stored!.secretHash).toMatch(/^hmac-sha256\$/);
    expect(stored!.secretHash).not.toContain(secret);
    expect(await verifySecret(secret, stored!.secretHash)).toBe(true);
  });

  it('terminals add --lists names the scopes the terminal keeps, and refuses a scope that cannot be a topic level', async () => {
    const s = await site();
    const out = join(tempDir(), 'gate-lists.json');
    const base = ['add', '--central-config', s.centralConfig, '--checkpoint', s.code, '--url', 'mqtt://central.example:1883'];
    const c = cliContext([...base, '--out', out, '--lists', 'site-a, province-46', '--json']);
    expect(await terminals(c.ctx)).toBe(0);
    expect(loadTerminalConfig(out).lists).toEqual(['site-a', 'province-46']);
    // The central's ACL holds the same scopes as the config: its list topics and no others.
    const { terminalId } = JSON.parse(c.out()) as { terminalId: string };
    const stored = await withCentralStore(s.config, { logger: silentLogger() }, (store) => store.getTerminalCredentials(terminalId));
    expect(stored?.listScopes).toEqual(['site-a', 'province-46']);

    const bad = cliContext([...base, '--out', join(tempDir(), 'bad.json'), '--lists', 'site-a,Site/B']);
    await expect(terminals(bad.ctx)).rejects.toMatchObject({ code: 'invalid-config', message: expect.stringContaining('lists') });
  });

  it('terminals add without --json says where the secret went, never the secret', async () => {
    const s = await site();
    const out = join(s.dir, 'gate-a-1.json'); // next to the central's own keys folder: reused, not overwritten
    const c = cliContext(['--central-config', s.centralConfig, '--checkpoint', s.code, '--url', 'mqtt://127.0.0.1:1883', '--out', out, '--terminal-id', 'gate-a-1']);
    expect(await terminals(c.ctx)).toBe(0);
    expect(c.out()).toContain('terminal gate-a-1 added to checkpoint');
    expect(c.out()).toContain(`config:  ${out}`);
    expect(c.out()).not.toContain(loadTerminalConfig(out).central!.password);
  });

  /**
   * Every id the command takes ends up as an MQTT topic level (…/cp/{code}/t/{id}/…,
   * …/lists/{scope}/…): `+`, `#`, `/` or NUL there would be topic injection, so each is
   * refused here with a message naming the rule, before anything is written.
   */
  const terminalIdRule = 'letters, digits, ".", "_" and "-" only, 1 to 64 characters';
  const scopeRule = 'lowercase letters, digits, ".", "_" and "-" only, 1 to 64 characters';
  const id = (value: string) => () => ['--terminal-id', value];
  const lists = (value: string) => () => ['--lists', value];
  const checkpoint = (value: string) => () => ['--checkpoint', value];
  it.each([
    ['an unknown checkpoint', (s: { code: string }) => ['--checkpoint', s.code === '10000000000008' ? '20000000000004' : '10000000000008'], 'checkpoint-unknown', 'is not registered'],
    ['a mistyped checkpoint code', checkpoint('12345678901234'), 'check-digit', 'fails its check digit'],
    ['a URL that is not mqtt', () => ['--url', 'http://central:1883'], 'invalid-config', 'central.url'],
    ['a terminal id with a slash', id('a/b'), 'invalid-terminal-id', terminalIdRule],
    ['a terminal id with a plus', id('gate+1'), 'invalid-terminal-id', terminalIdRule],
    ['a terminal id with a hash', id('gate#1'), 'invalid-terminal-id', terminalIdRule],
    ['a terminal id that is only a wildcard', id('+'), 'invalid-terminal-id', terminalIdRule],
    ['a terminal id with a NUL', id('ga\0te'), 'invalid-terminal-id', `terminal id "ga\\u0000te": ${terminalIdRule}`],
    ['an empty terminal id', id(''), 'invalid-terminal-id', terminalIdRule],
    ['a 65-character terminal id', id('g'.repeat(65)), 'invalid-terminal-id', terminalIdRule],
    ['a list scope with a plus', lists('site-a,site+b'), 'invalid-config', `lists[1]: ${scopeRule}`],
    ['a list scope that is a hash', lists('#'), 'invalid-config', `lists[0]: ${scopeRule}`],
    ['a list scope with a slash', lists('site/a'), 'invalid-config', `lists[0]: ${scopeRule}`],
    ['a list scope with a NUL', lists('si\0te'), 'invalid-config', `lists[0]: ${scopeRule}`],
    ['an empty list scope', lists('site-a,,site-b'), 'invalid-config', `lists[1]: ${scopeRule}`],
    ['a 65-character list scope', lists('s'.repeat(65)), 'invalid-config', `lists[0]: ${scopeRule}`],
    ['a checkpoint code with a plus', checkpoint('1000000000000+'), 'non-digit', 'must be digits only: character 14 is "+"'],
    ['a checkpoint code that is a hash', checkpoint('#'), 'non-digit', 'must be digits only: character 1 is "#"'],
    ['a checkpoint code with a slash', checkpoint('1000000/000008'), 'non-digit', 'must be digits only: character 8 is "/"'],
    ['a checkpoint code with a NUL', checkpoint('1000000000000\0'), 'non-digit', 'must be digits only: character 14 is "\\u0000"'],
    ['an empty checkpoint code', checkpoint(''), 'usage', 'missing --checkpoint'],
    ['a 15-digit checkpoint code', checkpoint('100000000000008'), 'length', 'has 15 digits, expected 14'],
  ])('terminals add refuses %s and writes nothing', async (_what, extra, code, message) => {
    const s = await site();
    const outDir = join(tempDir(), 'out');
    mkdirSync(outDir);
    const args = ['--central-config', s.centralConfig, '--checkpoint', s.code, '--url', 'mqtt://127.0.0.1:1883', '--out', join(outDir, 't.json')];
    const override = extra(s);
    const index = args.indexOf(override[0]!);
    if (index >= 0) args.splice(index, 2, ...override);
    else args.push(...override);
    await expect(terminals(cliContext(args).ctx)).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('terminals add refuses an existing --out, a taken id, a retired checkpoint and a foreign keys folder', async () => {
    const s = await site();
    const store = await testStore();
    await store.createCheckpoint({ code: s.code, name: 'A', direction: 'in', confirm: 'auto' });
    const base = { config: s.config, store, checkpointCode: s.code, url: 'mqtt://127.0.0.1:1883' };
    const dir = tempDir();
    await addTerminal({ ...base, outFile: join(dir, 'a.json'), terminalId: 'gate-1' });

    await expect(addTerminal({ ...base, outFile: join(dir, 'a.json') })).rejects.toMatchObject({ code: 'out-exists' });
    await expect(addTerminal({ ...base, outFile: join(dir, 'b.json'), terminalId: 'gate-1' })).rejects.toMatchObject({ code: 'terminal-exists' });

    const foreign = tempDir();
    mkdirSync(join(foreign, 'keys'));
    writeFileSync(join(foreign, 'keys', 'ref.key'), Buffer.alloc(32, 7));
    await expect(addTerminal({ ...base, outFile: join(foreign, 'c.json') })).rejects.toBeInstanceOf(TerminalProvisioningError);
    expect(existsSync(join(foreign, 'c.json'))).toBe(false);

    await store.retireCheckpoint(s.code);
    await expect(addTerminal({ ...base, outFile: join(dir, 'd.json') })).rejects.toMatchObject({ code: 'checkpoint-retired' });
    expect(store.terminalIds()).toEqual(['gate-1']);
  });

  it('terminals add leaves no terminal behind when the store refuses it', async () => {
    const s = await site();
    const store = await testStore();
    await store.createCheckpoint({ code: s.code, name: 'A', direction: 'in', confirm: 'auto' });
    store.addTerminal = () => Promise.reject(Object.assign(new Error('database is locked'), { code: 'store-busy' }));
    const outFile = join(tempDir(), 't.json');
    await expect(addTerminal({ config: s.config, store, checkpointCode: s.code, url: 'mqtt://127.0.0.1:1883', outFile })).rejects.toThrow('database is locked');
    expect(existsSync(outFile)).toBe(false);
    expect(readdirSync(join(outFile, '..')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the written credentials get a terminal into the running central', async () => {
    const s = await site();
    const central = new Central(s.config, { logger: silentLogger() });
    const ports = await central.start();
    try {
      const out = join(tempDir(), 'terminal.json');
      const c = cliContext(['--central-config', s.centralConfig, '--checkpoint', s.code, '--url', `mqtt://127.0.0.1:${ports.mqttPort}`, '--out', out, '--json']);
      expect(await terminals(c.ctx)).toBe(0);
      const config = loadTerminalConfig(out);
      const client = await connectAsync(config.central!.url!, { clientId: config.terminalId, username: config.central!.username, password: config.central!.password, reconnectPeriod: 0 }, false);
      const who = { terminalId: config.terminalId, checkpointCode: s.code };
      await client.publishAsync(terminalTopic(s.code, config.terminalId, 'events'), batch(scanEvents(who, 3)), { qos: 1 });
      await client.endAsync();
      const api = await centralApi(ports.httpPort, s.centralConfig);
      expect((await getJson<{ events: unknown[] }>(api, `/api/events?terminal=${config.terminalId}&limit=10`)).events).toHaveLength(3);
    } finally {
      await central.stop();
    }
  });
});
