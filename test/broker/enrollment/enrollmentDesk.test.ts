import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySecret } from '../../../broker/auth/secrets.js';
import { loadCentralConfig } from '../../../broker/config.js';
import { EnrollmentDesk } from '../../../broker/enrollment/enrollmentDesk.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { parseEnrollmentQr, signEnrollmentQr, type EnrollmentQr } from '../../../protocol/enrollment.js';
import { keyId, loadAuthorityPrivateKey, loadRefKey } from '../../../protocol/keys.js';
import { makeEnrollmentQr } from '../../../broker/enrollment/enrollmentQr.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';

const CP = '10000000000008';
const device = (n: number) => `enroll-${String(n).padStart(32, '0')}`;

describe('EnrollmentDesk — the central judging enrollment QRs against a real SQLite store', () => {
  const tempDir = useTempDir();
  const stores: SqliteCentralStore[] = [];
  // Registered after useTempDir's, so it runs first: a store left open keeps its checkpoint
  // worker writing the WAL while the folder is removed (ENOTEMPTY, seen once in CI).
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  async function site(options: { lists?: string[] } = {}) {
    const dir = tempDir();
    const config = loadCentralConfig(writeLocalCentral(dir));
    let nowMs = Date.parse('2026-12-01T08:00:00Z');
    const store = new SqliteCentralStore({ file: join(dir, 'central.db'), logger: silentLogger(), nowMs: () => nowMs });
    stores.push(store);
    await store.migrate();
    await store.createCheckpoint({ code: CP, name: 'Cổng A', direction: 'in', confirm: 'manual' });
    const authorityKey = loadAuthorityPrivateKey(config.keys.authorityKey);
    const logger = captureLogger();
    const desk = new EnrollmentDesk({ store, authorityKey, refKey: loadRefKey(config.keys.refKey), logger: logger.logger, nowMs: () => nowMs });
    const qr = async (ttlS = 60): Promise<EnrollmentQr> => {
      const made = await makeEnrollmentQr({ config, store, checkpointCode: CP, url: 'mqtt://central.example:1883', outFile: join(dir, `${Math.random()}.svg`), ttlS, nowMs: () => nowMs, ...options });
      const parsed = parseEnrollmentQr(made.payload);
      if (!parsed.ok) throw new Error(parsed.detail);
      return parsed.qr;
    };
    return { store, desk, qr, authorityKey, logger, advance: (ms: number) => (nowMs += ms) };
  }

  it('enrolls once: a new terminal at the QR checkpoint with the QR scopes and a secret that logs in', async () => {
    const { store, desk, qr } = await site({ lists: ['site-a', 'province'] });
    const answer = await desk.answer(device(1), await qr());
    expect(answer).toMatchObject({ ok: true, checkpoint: { code: CP, name: 'Cổng A', confirm: 'manual' }, lists: ['site-a', 'province'] });
    if (!answer.ok) return;
    const credentials = await store.getTerminalCredentials(answer.terminalId);
    expect(credentials).toMatchObject({ checkpointCode: CP, listScopes: ['site-a', 'province'], removedAt: null });
    expect(await verifySecret(answer.secret, credentials!.secretHash)).toBe(true);
    expect(answer.authorityPub).toContain('PUBLIC KEY');
    expect(answer.refKey).toHaveLength(44);
  });

  it('the same device asking again gets the same terminal with a new secret; any other device is told the QR is used', async () => {
    const { store, desk, qr } = await site();
    const code = await qr();
    const first = await desk.answer(device(1), code);
    const again = await desk.answer(device(1), code);
    const other = await desk.answer(device(2), code);
    expect(first.ok && again.ok).toBe(true);
    if (!first.ok || !again.ok) return;
    expect(again.terminalId).toBe(first.terminalId);
    const stored = (await store.getTerminalCredentials(first.terminalId))!.secretHash;
    expect(await verifySecret(again.secret, stored)).toBe(true);
    expect(await verifySecret(first.secret, stored)).toBe(false);
    expect(other).toMatchObject({ ok: false, reason: 'replayed' });
  });

  it('two devices racing with one QR: exactly one terminal', async () => {
    const { desk, qr } = await site();
    const code = await qr();
    const answers = await Promise.all([1, 2, 3, 4].map((n) => desk.answer(device(n), code)));
    expect(answers.filter((a) => a.ok)).toHaveLength(1);
    expect(answers.filter((a) => !a.ok && a.reason === 'replayed')).toHaveLength(3);
  });

  it('expired by the central clock, whatever the device thinks', async () => {
    const { desk, qr, advance } = await site();
    const code = await qr(30);
    advance(30_000);
    expect(await desk.answer(device(1), code)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('a removed terminal cannot come back through its old QR, even from the same device', async () => {
    const { store, desk, qr } = await site();
    const code = await qr();
    const first = await desk.answer(device(1), code);
    if (!first.ok) throw new Error('not enrolled');
    await store.removeTerminal(first.terminalId);
    expect(await desk.answer(device(1), code)).toMatchObject({ ok: false, reason: 'replayed' });
  });

  it('a retired checkpoint takes no new terminals', async () => {
    const { store, desk, qr } = await site();
    const code = await qr();
    await store.retireCheckpoint(CP);
    expect(await desk.answer(device(1), code)).toMatchObject({ ok: false, reason: 'checkpoint-retired' });
  });

  it('forged: a changed body, and a well-signed token this central never issued; another key: wrong deployment', async () => {
    const { desk, qr, authorityKey, logger } = await site();
    const genuine = await qr();
    const changed = { ...genuine, signed: Buffer.concat([genuine.signed, Buffer.from('x')]) };
    expect(await desk.answer(device(1), changed)).toMatchObject({ ok: false, reason: 'forged' });
    const unissued = parseEnrollmentQr(signEnrollmentQr({ ...genuine.body, token: 'A'.repeat(22) }, authorityKey));
    if (!unissued.ok) throw new Error(unissued.detail);
    expect(await desk.answer(device(1), unissued.qr)).toMatchObject({ ok: false, reason: 'forged' });
    const otherKey = generateKeyPairSync('ed25519').privateKey;
    const foreign = parseEnrollmentQr(signEnrollmentQr({ ...genuine.body, deployment: keyId(otherKey) }, otherKey));
    if (!foreign.ok) throw new Error(foreign.detail);
    expect(await desk.answer(device(1), foreign.qr)).toMatchObject({ ok: false, reason: 'wrong-deployment' });
    // The genuine one still works: refusals used nothing up.
    expect(await desk.answer(device(1), genuine)).toMatchObject({ ok: true });
    expect(logger.lines.filter((l) => l.msg === 'enroll.refused').map((l) => l.reason)).toEqual(['forged', 'forged', 'wrong-deployment']);
    expect(JSON.stringify(logger.lines)).not.toContain(genuine.body.token);
  });

  it('a store that fails is "unavailable", and the central stays up', async () => {
    const { store, desk, qr } = await site();
    const code = await qr();
    await store.close();
    expect(await desk.answer(device(1), code)).toMatchObject({ ok: false, reason: 'unavailable' });
  });
});
