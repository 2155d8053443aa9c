import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListSync, type ListInstaller } from '../../../gateway/listSync/listSync.js';
import { listChunkTopic, listManifestTopic, listTopicPrefix } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { RetainedBroker } from '../../fakes/retainedBroker.js';
import { damagedJson, notJson } from '../../helpers/jsonMutations.js';
import { buildRelease, randomState } from '../../helpers/listReleases.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';

/**
 * What the list topics deliver, damaged (fast-check): manifests mutated as JSON and as
 * bytes, chunks for files nobody asked for, topics of other scopes and odd shapes. The
 * sync never throws, never starts a download or an install from any of it, and still
 * syncs the real manifest afterwards. 1,000 messages.
 */

const RUNS = 1000;
const scope = 'site-a';
const authority = generateKeyPairSync('ed25519');
const release = buildRelease(authority.privateKey, scope, [randomState(40)]);
const manifestPayload = release.retained.get(listManifestTopic(scope))!;

const topic = fc.oneof(
  { weight: 4, arbitrary: fc.constant(listManifestTopic(scope)) },
  { weight: 1, arbitrary: fc.constantFrom('site-b', 'site-a/x', '+', '#').map(listManifestTopic) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('s1', 's2', 'd0-1', 'S1', '..', 's1/0'), fc.integer({ min: -1, max: 1e9 })).map(([name, index]) => listChunkTopic(scope, name, index)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((rest) => `${listTopicPrefix(scope)}${rest}`) },
);
const payload = fc.oneof(
  { weight: 4, arbitrary: damagedJson(manifestPayload.toString('utf8')).map((p) => Buffer.from(p)) },
  { weight: 1, arbitrary: notJson },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

function sameJsonAsManifest(payload: Buffer): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(payload.toString('utf8')), JSON.parse(manifestPayload.toString('utf8')));
  } catch {
    return false;
  }
}

describe('ListSync under damaged list-topic messages (fast-check)', () => {
  const tempDir = useTempDir();

  it(`never throws, starts nothing from damage, and still syncs the real manifest (${RUNS} cases)`, async () => {
    const installs: string[] = [];
    const installer: ListInstaller = {
      apply: async (request) => {
        installs.push(request.file);
        return { scope, version: 1, kind: 'snapshot', entries: 40, changed: true, applyMs: 1 };
      },
    };
    const log = captureLogger();
    const broker = new RetainedBroker();
    const sync = new ListSync({ scopes: [scope], trustedKeys: [authority.publicKey], installedVersion: () => null, installer, downloadDir: join(tempDir(), 'downloads'), logger: log.logger });
    sync.attach(broker.connect((t, p) => sync.handle(t, p)));

    let manifests = 0;
    fc.assert(
      fc.property(topic, payload, (t, p) => {
        // Damage that leaves the same JSON value (spacing, key order) is no damage: the real
        // manifest, rightly accepted. Judged by JSON, not by the verifier under test.
        fc.pre(!sameJsonAsManifest(p));
        expect(typeof sync.handle(t, p)).toBe('boolean');
        // An empty payload clears a retained manifest: nothing to refuse.
        if (t === listManifestTopic(scope) && p.length > 0) manifests++;
        expect(log.messages('lists.manifest-refused')).toHaveLength(manifests);
      }),
      { numRuns: RUNS },
    );
    expect(manifests).toBeGreaterThan(RUNS / 4);
    expect(broker.subscribedTo(`${listTopicPrefix(scope)}files/`)).toEqual([]);

    sync.handle(listManifestTopic(scope), manifestPayload);
    await waitFor(() => broker.subscribedTo(`${listTopicPrefix(scope)}files/`).length > 0, 10_000, 'chunk requests for the real manifest');
    expect(installs).toEqual([]);
    await sync.close();
  });
});
