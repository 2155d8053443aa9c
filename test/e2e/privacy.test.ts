import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parser as mqttParser, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addUser } from '../../broker/access/users.js';
import { createToken } from '../../broker/access/tokens.js';
import { loadCentralConfig } from '../../broker/config.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { refToHex } from '../../protocol/credentialRef.js';
import type { ScanEvent } from '../../protocol/event.js';
import { cccdQr, pcCovidQr, samplePerson, type SamplePerson } from '../../provisioning/samplePeople.js';
import { storedEvents } from '../helpers/centralApi.js';
import { createCentralSite, qrgate } from '../helpers/centralSite.js';
import { outboxDepth } from '../helpers/delivery.js';
import { refHasherFor } from '../helpers/lists.js';
import { QrgateProcess, useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { TcpProxy } from '../helpers/tcpProxy.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * DESIGN.md "Credentials": raw ID numbers never leave the terminal, are never logged and
 * never stored; and no secret leaks either: terminal secrets and keys, and people's
 * passwords, bearer tokens and session ids (issue 12). Real central and terminal, scans
 * through a pty scanner and the keyboard, MQTT through a recording proxy, every process
 * at trace level.
 * Then every log line, every file of both data folders (SQLite, WAL, SHM, list files) and
 * every MQTT byte is searched for each raw value the test invented.
 */

const scope = 'site-a';

interface Needle {
  readonly label: string;
  readonly bytes: Buffer;
}

interface Haystack {
  readonly name: string;
  readonly bytes: Buffer;
}

function filesUnder(dir: string): Haystack[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { name: relative(dir, path), bytes: readFileSync(path) };
    });
}

/** "label in name" for every needle found in a haystack: the test's failure message. */
function findings(needles: readonly Needle[], haystacks: readonly Haystack[]): string[] {
  const found: string[] = [];
  for (const haystack of haystacks) {
    for (const needle of needles) if (haystack.bytes.includes(needle.bytes)) found.push(`${needle.label} in ${haystack.name}`);
  }
  return found;
}

function count(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) n++;
  return n;
}

function packetsOf(stream: Buffer): Packet[] {
  const packets: Packet[] = [];
  const parser = mqttParser({ protocolVersion: 4 });
  parser.on('packet', (packet: Packet) => packets.push(packet));
  parser.on('error', (err: Error) => {
    throw err;
  });
  parser.parse(stream);
  return packets;
}

/** A value as text, and as the other spellings a leak could take. */
function spellings(label: string, bytes: Buffer): Needle[] {
  return [
    { label, bytes },
    { label: `${label} (hex)`, bytes: Buffer.from(bytes.toString('hex')) },
    { label: `${label} (HEX)`, bytes: Buffer.from(bytes.toString('hex').toUpperCase()) },
    { label: `${label} (base64)`, bytes: Buffer.from(bytes.toString('base64')) },
    { label: `${label} (base64url)`, bytes: Buffer.from(bytes.toString('base64url')) },
  ];
}

describe('privacy: raw ID numbers and secrets stay out of logs, stores and MQTT', () => {
  const tempDir = useTempDir('qrgate-e2e-privacy-');
  const { track } = useQrgateProcesses();
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('finds no raw ID, name, password, token, session id, ref key or authority key where it must not be', async () => {
    // Debug and trace lines too: a leak at a low level is still a leak in a field technician's hands.
    vi.stubEnv('QRGATE_LOG_LEVEL', 'trace');
    const dir = tempDir();
    const transcript: string[] = [];
    const site = await createCentralSite(dir, 0, { people: 1 });

    // Invented people: four allowed members, one denied member, two strangers.
    const allowed = [0, 1, 2, 3].map((i) => samplePerson(310_000 + i, 'allow', false));
    const denied = samplePerson(310_010, 'deny', false);
    const strangers = [samplePerson(310_020, 'allow', false), samplePerson(310_021, 'allow', false)];
    const members = [...allowed, denied];
    const csv = join(dir, 'members.csv');
    const rows = members.map((p, i) => `"${p.name}",0905 123 ${String(i).padStart(3, '0')},"12 Lê Lợi, Huế",Xưởng 1,${scope},${p.idNumber},${p.status}`);
    writeFileSync(csv, `name,phone,address,unit,scope,idNumber,status\n${rows.join('\n')}\n`);
    await qrgate(['members', 'import', '--central-config', site.centralConfig, csv], transcript);
    await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope], transcript);

    const central = await site.startCentral();
    track(central.proc);
    const proxy = await TcpProxy.start({ targetPort: central.mqttPort, record: true });
    cleanups.push(() => proxy.close());
    const pair = await VirtualSerialPair.open();
    cleanups.push(() => pair.close());
    const t = await site.addTerminal('gate-1', {
      lists: [scope],
      url: `mqtt://127.0.0.1:${proxy.port}`,
      lanes: [
        { name: 'in', direction: 'in', scanner: { type: 'serial', path: pair.devicePath, suffix: '\r\n' }, gpio: { type: 'sim', outputs: { relay: 4 } } },
        { name: 'out', direction: 'out', scanner: { type: 'stdin' }, gpio: { type: 'sim', outputs: { relay: 5 } } },
      ],
    });
    const terminal = track(new QrgateProcess(['terminal', '--config', t.config], { stdin: 'pipe' }));
    await terminal.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);

    // What each person shows, and what must come of it.
    const hashRef = refHasherFor(join(dir, 'keys'));
    const ref = (p: SamplePerson) => refToHex(hashRef('citizen', p.idNumber));
    const cccd7 = cccdQr(allowed[0]!, 7);
    const cmnd = cccd7.split('|')[1]!; // the old 9-digit CMND number rides along in the 7-field QR
    const malformed = `${strangers[1]!.idNumber}|${strangers[1]!.name}|01011990`; // 3 fields: refused before any lookup
    const scans: Array<{ lane: 'in' | 'out'; text: string; ref: string | null; decision: string; reason: string }> = [
      { lane: 'in', text: cccd7, ref: ref(allowed[0]!), decision: 'granted', reason: 'allowed' },
      { lane: 'in', text: cccdQr(allowed[1]!, 6), ref: ref(allowed[1]!), decision: 'granted', reason: 'allowed' },
      { lane: 'in', text: pcCovidQr(allowed[2]!), ref: ref(allowed[2]!), decision: 'granted', reason: 'allowed' },
      { lane: 'out', text: allowed[3]!.idNumber, ref: ref(allowed[3]!), decision: 'granted', reason: 'allowed' },
      { lane: 'in', text: cccdQr(denied, 7), ref: ref(denied), decision: 'refused', reason: 'denied' },
      { lane: 'in', text: pcCovidQr(strangers[0]!), ref: ref(strangers[0]!), decision: 'refused', reason: 'unknown' },
      { lane: 'out', text: strangers[1]!.idNumber, ref: ref(strangers[1]!), decision: 'refused', reason: 'unknown' },
      { lane: 'in', text: malformed, ref: null, decision: 'refused', reason: 'malformed' },
    ];
    for (const [i, scan] of scans.entries()) {
      if (scan.lane === 'in') pair.write(`${scan.text}\r\n`);
      else terminal.stdin.write(`${scan.text}\n`);
      await terminal.waitForCount('scan.decided', i + 1);
    }

    // Accounts (issue 12): a user and a bearer token, made with the functions `qrgate users add`
    // and `qrgate tokens create` run, in the running central's database; then a login over
    // HTTP for a session, a failed login, and requests with each.
    const userPassword = 'privacy passphrase 7319 Huế';
    const wrongPassword = 'privacy wrong guess 4402 Huế';
    const token = await withRegistry(loadCentralConfig(site.centralConfig), async (db) => {
      await addUser(db, { username: 'lan.nguyen', role: 'admin', password: userPassword });
      return (await createToken(db, { name: 'privacy scraper', role: 'admin', createdBy: 'cli:test' })).token;
    });
    const api = `http://127.0.0.1:${central.httpPort}`;
    const loginWith = (password: string) =>
      fetch(`${api}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lan.nguyen', password }) });
    expect((await loginWith(wrongPassword)).status).toBe(401);
    const login = await loginWith(userPassword);
    expect(login.status).toBe(200);
    const sessionId = /qrgate_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const asSession = await fetch(`${api}/api/events?limit=1`, { headers: { cookie: `qrgate_session=${sessionId}` } });
    expect(asSession.status).toBe(200);

    // The scans really ran and really crossed the wire: each event at the central with its ref.
    const dataDir = join(dir, 'gate-1-data');
    // Polled: a drained terminal prints nothing more to wake a line-driven probe.
    await waitFor(() => outboxDepth(dataDir) === 0, 30_000, 'outbox drained', 100);
    const stored = await storedEvents(central.api, t.terminalId);
    const bySeq = [...stored].sort((a, b) => a.seq - b.seq);
    expect(bySeq.map((e: ScanEvent) => ({ lane: e.lane, ref: e.credentialRef, decision: e.decision, reason: e.reason }))).toEqual(
      scans.map((s) => ({ lane: s.lane, ref: s.ref, decision: s.decision, reason: s.reason })),
    );

    // The malformed frame's own line (info, by problem and length) is among those searched.
    expect(terminal.linesWith('scan.malformed')).toHaveLength(1);

    // What must never show: every raw ID number, the names in the QRs, the secrets.
    const people = [...members, ...strangers];
    const rawIds: Needle[] = [
      ...people.map((p) => ({ label: `ID ${p.idNumber}`, bytes: Buffer.from(p.idNumber) })),
      { label: `CMND ${cmnd}`, bytes: Buffer.from(cmnd) },
    ];
    const names: Needle[] = people.map((p) => ({ label: `name ${p.name}`, bytes: Buffer.from(p.name) }));
    const keysDir = join(dir, 'keys');
    const refKey = readFileSync(join(keysDir, 'ref.key'));
    const authorityPem = readFileSync(join(keysDir, 'authority.key'), 'utf8');
    const authorityBody = authorityPem.split('\n').filter((line) => line && !line.startsWith('-----')).join('');
    const seed = Buffer.from(createPrivateKey(authorityPem).export({ format: 'jwk' }).d!, 'base64url');
    const keys: Needle[] = [
      ...spellings('ref key', refKey),
      ...spellings('authority private key', seed),
      { label: 'authority key PEM', bytes: Buffer.from(authorityBody) },
    ];
    const password: Needle = { label: 'terminal password', bytes: Buffer.from(t.password) };
    const accountSecrets: Needle[] = [
      ...spellings('user password', Buffer.from(userPassword)),
      ...spellings('wrong password tried', Buffer.from(wrongPassword)),
      ...spellings('bearer token', Buffer.from(token)),
      { label: 'bearer token secret part', bytes: Buffer.from(token.split('_').slice(2).join('_')) },
      ...spellings('session id', Buffer.from(sessionId!)),
      { label: 'csrf token', bytes: Buffer.from(csrfToken) },
    ];

    const centralDataDir = join(dir, 'central-data');
    const dataFiles = (when: string): Haystack[] => [
      ...filesUnder(dataDir).map((f) => ({ ...f, name: `terminal ${f.name} (${when})` })),
      ...filesUnder(centralDataDir).map((f) => ({ ...f, name: `central ${f.name} (${when})` })),
    ];
    const filesWhileRunning = dataFiles('running');
    // SIGKILL keeps the WAL and SHM files as a crash leaves them; read everything again.
    for (const proc of [terminal, central.proc]) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
    const files = [...filesWhileRunning, ...dataFiles('after SIGKILL')];
    const logLines = (name: string, proc: QrgateProcess): Haystack[] =>
      [...proc.lines.map((l) => JSON.stringify(l)), ...proc.stderr].map((line, i) => ({ name: `${name} log line ${i + 1}`, bytes: Buffer.from(line) }));
    const logs = [
      ...logLines('terminal', terminal),
      ...logLines('central', central.proc),
      ...transcript.map((line, i) => ({ name: `cli output line ${i + 1}`, bytes: Buffer.from(line) })),
    ];
    const connections = proxy.recordedConnections();
    const mqtt = connections.flatMap((c) => [
      { name: `mqtt connection ${c.id} terminal->central`, bytes: c.up },
      { name: `mqtt connection ${c.id} central->terminal`, bytes: c.down },
    ]);

    // The central's registry holds names (members import); the terminal and the wire never do.
    const terminalFiles = files.filter((f) => !f.name.startsWith('central '));
    expect(findings([...rawIds, ...keys, password, ...accountSecrets], [...files, ...logs])).toEqual([]);
    expect(findings(accountSecrets, mqtt)).toEqual([]);
    // The logins were logged (by username): the HTTP side's lines are among those searched.
    expect(findings([{ label: 'username', bytes: Buffer.from('lan.nguyen') }], logs)).toEqual(expect.arrayContaining([expect.stringMatching(/^username in central log line/)]));
    expect(findings(names, [...terminalFiles, ...logs, ...mqtt])).toEqual([]);
    expect(findings([...rawIds, ...names, ...keys], mqtt)).toEqual([]);

    // On plain mqtt:// the password does cross the wire, once per CONNECT, as its password field only.
    const connects = connections.flatMap((c) => packetsOf(c.up).filter((p) => p.cmd === 'connect'));
    expect(connects.length).toBeGreaterThanOrEqual(1);
    for (const connect of connects) {
      expect(connect).toMatchObject({ username: t.terminalId, clientId: t.terminalId });
      expect(connect.cmd === 'connect' && connect.password?.equals(password.bytes)).toBe(true);
    }
    expect(connections.reduce((n, c) => n + count(c.up, password.bytes), 0)).toBe(connects.length);
    expect(findings([password], mqtt.filter((m) => m.name.endsWith('central->terminal')))).toEqual([]);
    // and the events really went through the recorder: every ref is in some PUBLISH payload
    const published = connections.flatMap((c) => packetsOf(c.up)).filter((p) => p.cmd === 'publish' && p.topic.endsWith('/events'));
    const payloads = published.map((p) => (p.cmd === 'publish' ? p.payload.toString() : '')).join('\n');
    for (const scan of scans) if (scan.ref) expect(payloads).toContain(scan.ref);

    console.info(
      `privacy: ${rawIds.length + names.length + keys.length + accountSecrets.length + 1} values searched in ${logs.length} log lines, ` +
        `${files.length} files (${files.reduce((n, f) => n + f.bytes.length, 0)} bytes), ` +
        `${mqtt.reduce((n, m) => n + m.bytes.length, 0)} MQTT bytes over ${connections.length} connection(s)`,
    );
  });
});
