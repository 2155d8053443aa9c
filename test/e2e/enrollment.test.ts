import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { cccdQr, type SamplePerson } from '../../provisioning/samplePeople.js';
import { centralApi, getJson } from '../helpers/centralApi.js';
import { qrgate } from '../helpers/centralSite.js';
import { decodePng } from '../helpers/png.js';
import { useQrgateProcesses, type QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';
import { testCertificate, testCertificateKey } from '../broker/mqtt/centralFixture.js';

// jsqr is CommonJS with an ES-style `default` in its types: the function sits one level down.
const jsQR = jsQRModule.default;

/**
 * The technician's flow of issue 5, with real processes on loopback: a checkpoint created,
 * an enrollment QR printed, a fresh terminal with only a hardware config reading that QR
 * through its serial scanner (a socat pty), then online in the fleet with the right
 * checkpoint and its scans stored. And every way a QR or a terminal is turned away.
 */

const person: SamplePerson = { name: 'Trần Thị Mai', idNumber: '046190001234', cardId: null, status: 'allow' };
const stranger: SamplePerson = { name: 'Lê Văn Tú', idNumber: '046090009999', cardId: null, status: 'allow' };

interface Fleet {
  terminals: { terminalId: string; checkpointCode: string; online: boolean; removed: boolean }[];
}


function hardwareConfig(file: string, scanner: object): void {
  const lane = { name: 'in', direction: 'in', scanner, gpio: { type: 'sim', outputs: { green: 17, red: 27, buzzer: 22, relay: 23 } } };
  writeFileSync(file, JSON.stringify({ dataDir: 'data', lanes: [lane], policy: { debounceMs: 0, relayPulseMs: 50 } }, null, 2));
}

async function enrollQr(centralConfig: string, code: string, url: string, out: string, ...extra: string[]) {
  return JSON.parse(await qrgate(['terminals', 'enroll-qr', '--central-config', centralConfig, '--checkpoint', code, '--url', url, '--out', out, '--json', ...extra])) as {
    payload: string;
    file: string;
    expiresAt: string;
  };
}

async function createCheckpoint(centralConfig: string, name: string): Promise<string> {
  const out = await qrgate(['checkpoints', 'create', '--central-config', centralConfig, '--name', name, '--direction', 'in', '--confirm', 'auto', '--json']);
  return (JSON.parse(out) as { code: string }).code;
}

describe('enrollment by QR — the technician flow', () => {
  const tempDir = useTempDir();
  const processes = useQrgateProcesses();
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startCentral(centralConfig: string) {
    const central = processes.start(['central', '--config', centralConfig]);
    const ready = await central.waitForLine((l) => l.msg === 'central.ready');
    const mqtt = ready.mqtt as { port: number; tlsPort?: number };
    const api = await centralApi((ready.http as { port: number }).port, centralConfig);
    return { central, mqttPort: mqtt.port, tlsPort: mqtt.tlsPort, api };
  }

  it('checkpoint -> QR -> a fresh terminal scans it over a pty -> online in the fleet with its checkpoint -> its scans arrive; removal cuts it off', async () => {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const code = await createCheckpoint(centralConfig, 'Cổng nhà máy A');
    const members = join(dir, 'members.csv');
    writeFileSync(members, `name,phone,address,unit,scope,idNumber,status\n${person.name},0905000111,Huế,Xưởng 1,default,${person.idNumber},allow\n`);
    await qrgate(['members', 'import', '--central-config', centralConfig, members]);
    await qrgate(['lists', 'publish', '--central-config', centralConfig, '--scope', 'default']);
    const { central, mqttPort, api } = await startCentral(centralConfig);

    // What the technician prints: a PNG that decodes to the exact payload, readable only by its owner.
    const made = await enrollQr(centralConfig, code, `mqtt://127.0.0.1:${mqttPort}`, join(dir, 'enroll.png'));
    const png = decodePng(readFileSync(made.file));
    expect(jsQR(png.rgba, png.width, png.height)?.data).toBe(made.payload);
    expect(statSync(made.file).mode & 0o777).toBe(0o600);

    const pair = await VirtualSerialPair.open();
    cleanups.push(() => pair.close());
    const hwFile = join(dir, 'hw.json');
    hardwareConfig(hwFile, { type: 'serial', path: pair.devicePath, baudRate: 9600, suffix: '\r\n' });
    const terminal = processes.start(['terminal', '--enroll', '--config', hwFile]);
    await terminal.waitForLine((l) => l.msg === 'enroll.waiting');
    const scanner = await open(pair.scannerPath, 'w');
    cleanups.push(() => scanner.close());

    // A technician's first try is often their own ID card: refused, not logged, and the terminal waits on.
    await scanner.write(`${cccdQr(person)}\r\n`);
    await terminal.waitForLine((l) => l.msg === 'enroll.not-an-enrollment-qr');
    await terminal.waitForLine((l) => l.msg === 'gpio.set' && l.output === 'red' && l.value === 1);

    await scanner.write(`${made.payload}\r\n`);
    const saved = await terminal.waitForLine((l) => l.msg === 'enroll.saved');
    const terminalId = saved.terminalId as string;
    expect(saved).toMatchObject({ checkpoint: code, lists: ['default'] });
    const ready = await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    expect(ready).toMatchObject({ terminalId, checkpoint: code });

    // Saved safely: the whole config, its secret readable by its owner only, and the deployment's keys beside it.
    const config = JSON.parse(readFileSync(hwFile, 'utf8'));
    expect(config).toMatchObject({ terminalId, checkpoint: { code, name: 'Cổng nhà máy A', confirm: 'auto' }, lists: ['default'], central: { username: terminalId } });
    expect(statSync(hwFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys', 'ref.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys', 'authority.pub'), 'utf8')).toContain('PUBLIC KEY');

    const online = await waitFor(async () => {
      const fleet = await getJson<Fleet>(api, '/api/terminals');
      return fleet.terminals.find((t) => t.terminalId === terminalId && t.online);
    }, 30_000);
    expect(online).toMatchObject({ checkpointCode: code, removed: false });

    // Its list arrives over the same connection; then a registered person passes and a stranger does not.
    await terminal.waitForLine((l) => l.msg === 'lists.synced', 60_000);
    await scanner.write(`${cccdQr(person)}\r\n${cccdQr(stranger)}\r\n`);
    const decided = await terminal.waitForCount('scan.decided', 2);
    expect(decided.map((l) => l.decision)).toEqual(['granted', 'refused']);
    const stored = await waitFor(async () => {
      const page = await getJson<{ events: { decision: string; checkpointCode: string }[] }>(api, `/api/events?terminal=${terminalId}`);
      return page.events.length === 2 ? page.events : undefined;
    }, 30_000);
    expect(stored.map((e) => e.decision).sort()).toEqual(['granted', 'refused']);
    expect(stored.every((e) => e.checkpointCode === code)).toBe(true);
    for (const proc of [terminal, central]) expect(JSON.stringify(proc.lines)).not.toContain(person.idNumber);

    // Removed: cut off at once, refused on reconnect, shown as removed.
    await qrgate(['terminals', 'remove', '--central-config', centralConfig, '--terminal-id', terminalId]);
    await central.waitForLine((l) => l.msg === 'auth.session-revoked' && l.terminalId === terminalId);
    await central.waitForLine((l) => l.msg === 'mqtt.auth-refused' && l.clientId === terminalId && l.reason === 'terminal-removed');
    const gone = await waitFor(async () => {
      const fleet = await getJson<Fleet>(api, '/api/terminals');
      return fleet.terminals.find((t) => t.terminalId === terminalId && !t.online);
    }, 30_000);
    expect(gone.removed).toBe(true);

    // Every boot after the first: --enroll with an identity in place is a plain start.
    terminal.kill('SIGTERM');
    expect((await terminal.exited).code).toBe(0);
    const again = processes.start(['terminal', '--enroll', '--config', hwFile]);
    expect(await again.waitForLine((l) => l.msg === 'terminal.ready')).toMatchObject({ terminalId });
    expect(again.linesWith('enroll.waiting')).toEqual([]);
  });

  it('over TLS with a private CA: the hardware config names the CA, the enrolled terminal keeps it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'server.crt'), testCertificate);
    writeFileSync(join(dir, 'server.key'), testCertificateKey);
    const centralConfig = writeLocalCentral(dir, { mqtt: { host: '127.0.0.1', port: 0, tls: { port: 0, cert: 'server.crt', key: 'server.key' } } });
    const code = await createCheckpoint(centralConfig, 'Cổng TLS');
    const { tlsPort, api } = await startCentral(centralConfig);
    const made = await enrollQr(centralConfig, code, `mqtts://localhost:${tlsPort}`, join(dir, 'qr.svg'));
    const hwFile = join(dir, 'hw.json');
    hardwareConfig(hwFile, { type: 'stdin' });
    writeFileSync(hwFile, JSON.stringify({ ...JSON.parse(readFileSync(hwFile, 'utf8')), centralCa: 'server.crt' }));
    const terminal = processes.start(['terminal', '--enroll', '--config', hwFile], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'enroll.waiting');
    terminal.stdin.write(`${made.payload}\n`);
    const saved = await terminal.waitForLine((l) => l.msg === 'enroll.saved');
    expect(JSON.parse(readFileSync(hwFile, 'utf8')).central).toMatchObject({ url: `mqtts://localhost:${tlsPort}`, ca: 'server.crt' });
    await waitFor(async () => (await getJson<Fleet>(api, '/api/terminals')).terminals.find((t) => t.terminalId === saved.terminalId && t.online), 30_000);
  });

  it('refuses a replayed, expired, forged, other-deployment and retired-checkpoint QR, each with its reason, and keeps waiting', async () => {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const code = await createCheckpoint(centralConfig, 'Cổng B');
    const retiring = await createCheckpoint(centralConfig, 'Cổng tạm');
    const { central, mqttPort } = await startCentral(centralConfig);
    const url = `mqtt://127.0.0.1:${mqttPort}`;

    // One QR used by a first device (stdin scanners here: the pty path is the test above).
    const used = await enrollQr(centralConfig, code, url, join(dir, 'used.svg'));
    expect(readFileSync(used.file, 'utf8')).toContain('<svg');
    const first = await startWaiting(join(dir, 'first'));
    first.stdin.write(`${used.payload}\n`);
    await first.waitForLine((l) => l.msg === 'enroll.saved');

    const expired = await enrollQr(centralConfig, code, url, join(dir, 'expired.png'), '--ttl', '1');
    const forged = tamper((await enrollQr(centralConfig, code, url, join(dir, 'forged.png'))).payload);
    const retired = await enrollQr(centralConfig, retiring, url, join(dir, 'retired.png'));
    await qrgate(['checkpoints', 'retire', '--central-config', centralConfig, '--code', retiring]);
    // Another deployment's central made this one, naming ours: its keys are not ours.
    const otherDir = join(dir, 'other');
    mkdirSync(otherDir);
    const otherConfig = writeLocalCentral(otherDir);
    const elsewhere = await enrollQr(otherConfig, await createCheckpoint(otherConfig, 'Cổng khác'), url, join(otherDir, 'qr.png'));
    await waitFor(() => (Date.now() > Date.parse(expired.expiresAt) ? true : undefined), 10_000);

    const fresh = await startWaiting(join(dir, 'fresh'));
    const cases = [
      { payload: used.payload, reason: 'replayed' },
      { payload: expired.payload, reason: 'expired' },
      { payload: forged, reason: 'forged' },
      { payload: elsewhere.payload, reason: 'wrong-deployment' },
      { payload: retired.payload, reason: 'checkpoint-retired' },
    ];
    for (const [i, c] of cases.entries()) {
      fresh.stdin.write(`${c.payload}\n`);
      const refused = await fresh.waitForCount('enroll.refused', i + 1);
      expect(refused[i], c.reason).toMatchObject({ reason: c.reason });
      await central.waitForLine((l) => l.msg === 'enroll.refused' && l.reason === c.reason);
    }
    // Still waiting, still without an identity; no token or secret in any log.
    expect(fresh.linesWith('enroll.saved')).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'fresh', 'hw.json'), 'utf8'))).not.toHaveProperty('terminalId');
    const logs = JSON.stringify([...central.lines, ...fresh.lines, ...first.lines]);
    for (const payload of [used.payload, expired.payload, forged]) expect(logs).not.toContain(payload.slice(5, 60));
    expect(logs).not.toContain(JSON.parse(readFileSync(join(dir, 'first', 'hw.json'), 'utf8')).central.password);

    async function startWaiting(folder: string): Promise<QrgateProcess> {
      mkdirSync(folder, { recursive: true });
      hardwareConfig(join(folder, 'hw.json'), { type: 'stdin' });
      const proc = processes.start(['terminal', '--enroll', '--config', join(folder, 'hw.json')], 'pipe');
      await proc.waitForLine((l) => l.msg === 'enroll.waiting');
      return proc;
    }
  });
});

/** Extends the validity inside the signed body and keeps the old signature: what a forger can do. */
function tamper(payload: string): string {
  const [prefix, body, signature] = [payload.slice(0, 5), ...payload.slice(5).split('.')] as [string, string, string];
  const json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  json.expiresAt += 86_400;
  return `${prefix}${Buffer.from(JSON.stringify(json)).toString('base64url')}.${signature}`;
}
