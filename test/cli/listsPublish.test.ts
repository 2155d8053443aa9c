import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { run } from '../../cli/commands/listsPublish.js';
import { Central } from '../../broker/central.js';
import { loadCentralConfig } from '../../broker/config.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { loadPublicKey } from '../../protocol/keys.js';
import { verifyManifest } from '../../protocol/lists/index.js';
import { listManifestTopic } from '../../protocol/topics.js';
import { addMembers } from '../broker/lists/registryRows.js';
import { writeCentralSite } from '../broker/mqtt/centralFixture.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { qrgate } from '../helpers/centralSite.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

const scope = 'phu-hoi';

describe('qrgate lists publish', () => {
  const tempDir = useTempDir('qrgate-lists-publish-cli-');
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function site(members = 25) {
    const dir = tempDir();
    const centralConfig = writeCentralSite(dir, { lab: true });
    const config = loadCentralConfig(centralConfig);
    await withRegistry(config, (db) => addMembers(db, scope, members));
    return { dir, centralConfig, config };
  }

  async function publish(argv: string[]) {
    const c = cliContext(argv);
    const code = await run(c.ctx);
    return { code, out: c.out(), err: c.err() };
  }

  it('prints the new version as one JSON object, then a human line for the next one', async () => {
    const s = await site();
    const first = await publish(['--central-config', s.centralConfig, '--scope', scope, '--json']);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.out);
    expect(result).toMatchObject({ scope, version: 1, count: 25, added: 25, changed: 0, removed: 0, deltaBytes: null, chain: [] });
    expect(result.snapshotBytes).toBeGreaterThan(25 * 33);
    expect(typeof result.buildSignMs).toBe('number');
    expect(Date.parse(result.expiresAt) - Date.parse(result.issuedAt)).toBe(7 * 86_400_000);

    const second = await publish(['--central-config', s.centralConfig, '--scope', scope, '--expires-in-days', '2']);
    expect(second.out).toMatch(
      /^list "phu-hoi" version 2 published: 25 entries \(\+0 added, 0 changed, -0 removed\), snapshot \d+ bytes, delta \d+ bytes, built and signed in \d+ ms; terminals can take 1 delta\(s\) instead of the snapshot; expires \S+Z\n$/,
    );
    expect(existsSync(join(s.config.dataDir, 'lists', scope, 'd1-2.qgl'))).toBe(true);
  });

  it('refuses bad arguments with a usage error and an unknown scope with the reason', async () => {
    const s = await site();
    await expect(publish(['--central-config', s.centralConfig])).rejects.toThrow(UsageError);
    await expect(publish(['--central-config', s.centralConfig, '--scope', scope, '--expires-in-days', 'soon'])).rejects.toThrow(UsageError);
    await expect(publish(['--central-config', s.centralConfig, '--scope', 'phu-hoj'])).rejects.toMatchObject({ code: 'empty-scope' });
  });

  it('run by an operator in another process, it reaches the running central and its subscribers', async () => {
    const s = await site();
    const central = new Central(s.config, { logger: silentLogger() });
    const { mqttPort } = await central.start();
    cleanup.push(() => central.stop());
    const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4, reconnectPeriod: 0 }, false);
    cleanup.push(() => client.endAsync());
    const manifests: Buffer[] = [];
    client.on('message', (_topic, payload) => manifests.push(Buffer.from(payload)));
    await client.subscribeAsync(listManifestTopic(scope), { qos: 1 });

    const printed = JSON.parse(await qrgate(['lists', 'publish', '--central-config', s.centralConfig, '--scope', scope, '--json']));
    const payload = await waitFor(() => manifests.at(-1), 5_000, 'the manifest on MQTT');
    const { manifest } = verifyManifest(payload, {
      trustedKeys: [loadPublicKey(join(s.dir, 'keys', 'authority.pub'))],
      scope,
      installedVersion: null,
    });
    expect(manifest).toMatchObject({ version: printed.version, count: 25 });
  });
});
