import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manifestSchema, planFetch, signManifest, verifyManifest, type ListManifest } from '../../../protocol/lists/index.js';
import { buildRelease, randomState } from '../../helpers/listReleases.js';

const authority = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const scope = 'site-a';

function release(versions: number): ListManifest {
  const states = Array.from({ length: versions }, () => randomState(20));
  return buildRelease(authority.privateKey, scope, states, { chunkBytes: 1024 }).manifest;
}

const verify = (payload: Buffer, installedVersion: number | null = null) =>
  verifyManifest(payload, { trustedKeys: [authority.publicKey], scope, installedVersion });

describe('list manifest', () => {
  it('round-trips through sign and verify, naming the signing key', () => {
    const manifest = release(3);
    const { manifest: read, keyId } = verify(signManifest(manifest, authority.privateKey));
    expect(read).toEqual(manifest);
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses a changed byte, an unknown key, another scope and a rollback, each by its code', () => {
    const payload = signManifest(release(3), authority.privateKey);
    const envelope = JSON.parse(payload.toString('utf8')) as { manifest: string };
    const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(payload.toString('utf8')), manifest: envelope.manifest.replace('"version":3', '"version":9') }));
    expect(() => verify(tampered)).toThrow(expect.objectContaining({ code: 'bad-signature' }));
    expect(() => verify(signManifest(release(2), other.privateKey))).toThrow(expect.objectContaining({ code: 'unknown-key' }));
    const elsewhere = buildRelease(authority.privateKey, 'site-b', [randomState(5)]).manifest;
    expect(() => verify(signManifest(elsewhere, authority.privateKey))).toThrow(expect.objectContaining({ code: 'wrong-scope' }));
    expect(() => verify(payload, 4)).toThrow(expect.objectContaining({ code: 'rollback' }));
    expect(verify(payload, 3).manifest.version).toBe(3);
    expect(() => verify(Buffer.from('not json'))).toThrow(expect.objectContaining({ code: 'malformed' }));
    expect(() => verify(Buffer.from('{"manifest":"{}","keyId":"00","signature":"x"}'))).toThrow(expect.objectContaining({ code: 'malformed' }));
  });

  it('accepts only the canonical base64 of the signature: one signed manifest, one payload', () => {
    const payload = signManifest(release(2), authority.privateKey);
    const envelope = JSON.parse(payload.toString('utf8')) as { signature: string };
    expect(envelope.signature).toMatch(/==$/);
    // Node's decoder would skip these and read the same 64 bytes.
    for (const signature of [envelope.signature.replace(/==$/, 'A='), envelope.signature.replace(/==$/, ''), `${envelope.signature} `]) {
      const altered = Buffer.from(JSON.stringify({ ...JSON.parse(payload.toString('utf8')), signature }));
      expect(() => verify(altered)).toThrow(expect.objectContaining({ code: 'malformed', message: expect.stringContaining('canonical base64') }));
    }
  });

  it('rejects a manifest whose delta chain is broken or whose chunk list does not fit the size', () => {
    const manifest = release(4);
    expect(manifestSchema.safeParse(manifest).success).toBe(true);
    const gap = { ...manifest, deltas: [manifest.deltas[0]!, manifest.deltas[2]!] };
    expect(manifestSchema.safeParse(gap).success).toBe(false);
    const shortChunks = { ...manifest, snapshot: { ...manifest.snapshot, chunks: manifest.snapshot.chunks.slice(1) } };
    expect(manifestSchema.safeParse(shortChunks).success).toBe(false);
    expect(() => signManifest(gap, authority.privateKey)).toThrow(/deltas must form one chain/);
  });

  it('plans the delta chain from the installed version, else the snapshot, else nothing', () => {
    const manifest = release(4);
    expect(planFetch(manifest, 4)).toEqual([]);
    expect(planFetch(manifest, 2).map((f) => f.name)).toEqual(['d2-3', 'd3-4']);
    expect(planFetch(manifest, 1).map((f) => f.name)).toEqual(['d1-2', 'd2-3', 'd3-4']);
    expect(planFetch(manifest, null).map((f) => f.name)).toEqual(['s4']);
    expect(planFetch({ ...manifest, deltas: manifest.deltas.slice(2) }, 1).map((f) => f.name)).toEqual(['s4']);
  });
});
