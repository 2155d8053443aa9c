import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hardwareConfigSchema, type HardwareConfig } from '../../../gateway/config.js';
import type { EnrollExchange, EnrollExchangeOptions } from '../../../gateway/enroll/enrollClient.js';
import { Enroller } from '../../../gateway/enroll/enroller.js';
import { buildLaneHardware } from '../../../gateway/terminal.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { signEnrollmentQr, type EnrollResult } from '../../../protocol/enrollment.js';
import { keyId } from '../../../protocol/keys.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { FakeScanner } from '../../fakes/fakeScanner.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';

/**
 * The terminal's side of enrollment with the central replaced by a scripted exchange: what
 * it saves, what it refuses to save, and that it keeps waiting after every failure.
 */

const CP = '10000000000008';
const OTHER_CP = generateCheckpointCode();
const authority = generateKeyPairSync('ed25519');
const refKey = Buffer.alloc(32, 7).toString('base64');

function qrText(checkpoint = CP): string {
  return signEnrollmentQr(
    { v: 1, deployment: keyId(authority.publicKey), url: 'mqtt://127.0.0.1:1', checkpoint, token: 'q0H6bN3u1xZK4Yf8pP2sWw', expiresAt: 2_000_000_000 },
    authority.privateKey,
  );
}

function granted(overrides: Partial<Extract<EnrollResult, { ok: true }>> = {}): EnrollExchange {
  return {
    kind: 'answer',
    result: {
      v: 1,
      ok: true,
      terminalId: 't-0123456789',
      secret: 'a-secret-of-at-least-16',
      checkpoint: { code: CP, name: 'Cổng A', confirm: 'auto' },
      lists: ['default'],
      authorityPub: authority.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      refKey,
      ...overrides,
    },
  };
}

describe('Enroller — a terminal reading its enrollment QR', () => {
  const tempDir = useTempDir();

  function setup(answers: EnrollExchange[], lane: object = {}) {
    const dir = tempDir();
    const configFile = join(dir, 'hw.json');
    const raw = { dataDir: 'data', lanes: [{ name: 'in', direction: 'in', scanner: { type: 'sim' }, gpio: { type: 'sim', outputs: { green: 17, red: 27, buzzer: 22 } }, ...lane }] };
    writeFileSync(configFile, JSON.stringify(raw));
    const hardware: HardwareConfig = hardwareConfigSchema.parse(raw);
    const scanner = new FakeScanner();
    const log = captureLogger();
    const asked: EnrollExchangeOptions[] = [];
    const enroller = new Enroller(configFile, hardware, {
      logger: log.logger,
      buildHardware: (laneConfig, logger) => ({ ...buildLaneHardware(laneConfig, logger), scanner }),
      exchange: async (options) => {
        asked.push(options);
        return answers.shift() ?? { kind: 'unreachable', detail: 'script ended' };
      },
    });
    return { dir, configFile, scanner, log, asked, enroller };
  }

  it('after an unreachable central it waits for the next scan; then saves the config and keys the answer carries', async () => {
    const { dir, configFile, scanner, log, asked, enroller } = setup([{ kind: 'unreachable', detail: 'ECONNREFUSED' }, granted()]);
    await enroller.start();
    scanner.scan(qrText());
    await waitFor(() => log.messages('enroll.central-unreachable')[0]);
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    scanner.scan(qrText());
    await enroller.enrolled;
    expect(asked.map((a) => a.clientId)).toEqual([asked[0]!.clientId, asked[0]!.clientId]);
    expect(asked[0]!.qrText).toBe(qrText());
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    expect(config).toMatchObject({ terminalId: 't-0123456789', checkpoint: { code: CP }, central: { url: 'mqtt://127.0.0.1:1', username: 't-0123456789' } });
    expect(readFileSync(join(dir, 'keys', 'ref.key')).toString('base64')).toBe(refKey);
    expect(scanner.connected).toBe(false); // released for the terminal proper
    expect(JSON.stringify(log.lines)).not.toContain('a-secret-of-at-least-16');
  });

  it('refuses an answer whose key is not the one the QR names, or whose checkpoint differs: nothing saved', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { dir, configFile, scanner, log, enroller } = setup([granted({ authorityPub: other }), granted({ checkpoint: { code: OTHER_CP, name: 'x', confirm: 'auto' } })]);
    await enroller.start();
    scanner.scan(qrText());
    await waitFor(() => log.messages('enroll.bad-answer')[0]);
    scanner.scan(qrText());
    await waitFor(() => log.messages('enroll.bad-answer')[1]);
    expect(log.messages('enroll.bad-answer').map((l) => l.detail)).toEqual([
      'the authority key is not the one the QR names',
      `the checkpoint ${OTHER_CP} is not the QR's ${CP}`,
    ]);
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).not.toHaveProperty('terminalId');
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    await enroller.stop();
  });

  it('a manual checkpoint at an unattended lane: config-invalid, named by field, nothing written', async () => {
    const { dir, configFile, scanner, log, enroller } = setup([granted({ checkpoint: { code: CP, name: 'Cổng A', confirm: 'manual' } })], { attended: false });
    await enroller.start();
    scanner.scan(qrText());
    const invalid = await waitFor(() => log.messages('enroll.config-invalid')[0]);
    expect(invalid.problems).toEqual([expect.stringMatching(/^lanes\[0\]\.attended: a manual-confirm lane needs an operator/)]);
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).not.toHaveProperty('terminalId');
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    await enroller.stop();
  });

  it('after config-invalid, the technician fixes the file and scans the same QR again: enrolled without a restart', async () => {
    const manual = granted({ checkpoint: { code: CP, name: 'Cổng A', confirm: 'manual' } });
    const { configFile, scanner, log, asked, enroller } = setup([manual, manual], { attended: false });
    await enroller.start();
    scanner.scan(qrText());
    await waitFor(() => log.messages('enroll.config-invalid')[0]);

    const raw = JSON.parse(readFileSync(configFile, 'utf8'));
    raw.lanes[0].attended = true;
    writeFileSync(configFile, JSON.stringify(raw));
    scanner.scan(qrText());
    await enroller.enrolled;
    expect(log.messages('enroll.config-invalid')).toHaveLength(1);
    expect(asked.map((a) => a.clientId)).toEqual([asked[0]!.clientId, asked[0]!.clientId]);
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).toMatchObject({ terminalId: 't-0123456789', checkpoint: { confirm: 'manual' }, lanes: [{ attended: true }] });
  });

  it('a config broken while waiting is named at the next scan, before the central is asked, and the terminal keeps waiting', async () => {
    const { configFile, scanner, log, asked, enroller } = setup([granted()]);
    await enroller.start();
    const raw = JSON.parse(readFileSync(configFile, 'utf8'));
    writeFileSync(configFile, JSON.stringify({ ...raw, lanes: [] }));
    scanner.scan(qrText());
    const invalid = await waitFor(() => log.messages('enroll.config-invalid')[0]);
    expect(invalid.problems).toEqual([expect.stringMatching(/^lanes: at least one lane/)]);
    expect(asked).toEqual([]);

    writeFileSync(configFile, JSON.stringify(raw));
    scanner.scan(qrText());
    await enroller.enrolled;
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).toHaveProperty('terminalId', 't-0123456789');
  });

  it('the device keeps its enrollment nonce across restarts, so the central knows a retry', async () => {
    const first = setup([]);
    await first.enroller.start();
    first.scanner.scan(qrText());
    await waitFor(() => first.asked[0]);
    await first.enroller.stop();
    const again = new Enroller(first.configFile, hardwareConfigSchema.parse(JSON.parse(readFileSync(first.configFile, 'utf8'))), {
      logger: first.log.logger,
      buildHardware: (laneConfig, logger) => ({ ...buildLaneHardware(laneConfig, logger), scanner: first.scanner }),
      exchange: async (options) => {
        first.asked.push(options);
        return { kind: 'unreachable', detail: 'down' };
      },
    });
    await again.start();
    first.scanner.scan(qrText());
    await waitFor(() => first.asked[1]);
    expect(first.asked[1]!.clientId).toBe(first.asked[0]!.clientId);
    expect(first.asked[0]!.clientId).toMatch(/^enroll-[0-9a-f]{32}$/);
    await again.stop();
  });

  it('anything that is not an enrollment QR is refused without its content in the log', async () => {
    const { scanner, log, asked, enroller } = setup([]);
    await enroller.start();
    scanner.scan('046190001234|123456789|Trần Thị Mai|01011990|Nữ|Huế|01012021');
    const refused = await waitFor(() => log.messages('enroll.not-an-enrollment-qr')[0]);
    expect(refused.bytes).toBeGreaterThan(40);
    expect(JSON.stringify(log.lines)).not.toContain('046190001234');
    expect(asked).toEqual([]);
    await enroller.stop();
  });
});
