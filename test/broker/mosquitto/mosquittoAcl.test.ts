import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSecret, hashSecret } from '../../../broker/auth/secrets.js';
import { ingestFilters } from '../../../broker/ingestion/mqttWorker.js';
import { mosquittoPasswordHash } from '../../../broker/mosquitto/passwordHash.js';
import { recordMosquittoHash } from '../../../broker/mosquitto/recordHash.js';
import { writeMosquittoConfig, type MosquittoConfigResult } from '../../../broker/mosquitto/mosquittoConfig.js';
import { removeTerminal, rotateTerminalSecret } from '../../../broker/registry/terminalLifecycle.js';
import { startMosquitto, type MosquittoChild } from '../../../cli/bench/e2e/mosquittoChild.js';
import { commandTopic, terminalTopic } from '../../../protocol/topics.js';
import { useTestStore, type TestCentralStore } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor, withDeadline } from '../../helpers/waitFor.js';
import { cells, everyone, principals, X, Y, type Who } from '../auth/aclMatrixTable.js';

/**
 * The terminal rows of the ACL matrix (test/broker/auth/aclMatrixTable.ts, the table our own
 * broker is held to) asked of the machine's Mosquitto, configured only by the files
 * `qrgate mosquitto-config` writes. What Mosquitto 2.0 can be asked, and how:
 *   - publish: Mosquitto acknowledges a refused QoS 1 publish like an allowed one (MQTT
 *     3.1.1 has no way to say no), so an observer subscribed to everything tells: after the
 *     probe the terminal publishes a marker it may publish; once the marker has arrived, the
 *     probe either arrived before it or was dropped (one publisher, one subscriber: in order).
 *   - subscribe: Mosquitto grants every SUBSCRIBE and checks `read` per message at delivery,
 *     so "may subscribe" is "receives what the central sends there": the terminal subscribes,
 *     the observer publishes a probe then a marker on the terminal's own cmd topic.
 *   - rows whose topic holds a wildcard or NUL are filters, not topics: Mosquitto has no
 *     answer for them at SUBSCRIBE, and publishing one is a protocol error. Not asked here.
 *   - the will column: Mosquitto 2.0 does not check a will's topic at CONNECT; a will is
 *     published, or dropped, by the same `write` rules as the terminal's own publishes.
 */

const concrete = (topic: string): boolean => !/[+#\0]/.test(topic);
type TerminalWho = Exclude<Who, 'lab'>;
const terminals = everyone.filter((who): who is TerminalWho => principals[who].kind === 'terminal');
const principal = (who: TerminalWho) => principals[who];
const adminName = 'test-observer';
const deadlineMs = 10_000;

function expectedConcrete(who: Who, action: 'publish' | 'subscribe'): string[] {
  return cells.filter((c) => c.who === who && c.action === action && concrete(c.topic)).map((c) => `${JSON.stringify(c.topic)}: ${c.allowed ? 'allowed' : 'refused'}`);
}

interface Account {
  readonly username: string;
  password: string;
}

interface World {
  readonly store: TestCentralStore;
  readonly dataDir: string;
  readonly outDir: string;
  readonly broker: MosquittoChild;
  readonly accounts: Record<TerminalWho, Account>;
  readonly central: Account;
  readonly admin: Account;
  regenerate(): Promise<MosquittoConfigResult>;
}

const options = (account: Account, extra: IClientOptions = {}): IClientOptions => ({
  clientId: account.username,
  username: account.username,
  password: account.password,
  protocolVersion: 4,
  reconnectPeriod: 0,
  connectTimeout: 10_000,
  ...extra,
});

describe('Mosquitto with the files of qrgate mosquitto-config', () => {
  const tempDir = useTempDir('qrgate-mosquitto-');
  const openStore = useTestStore();
  const cleanUp: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanUp.splice(0).reverse()) await step();
  });

  async function connect(w: World, account: Account, extra: IClientOptions = {}): Promise<MqttClient> {
    const client = await connectAsync(w.broker.url, options(account, extra));
    cleanUp.push(() => client.endAsync(true));
    return client;
  }

  /** The terminals of the table, provisioned as `terminals add` does it, and Mosquitto started on the files. */
  async function world(): Promise<World> {
    const store = await openStore();
    const dataDir = dirname(store.file);
    for (const code of [X, Y]) await store.createCheckpoint({ code, name: `Gate ${code}`, direction: 'both', confirm: 'auto' });
    const accounts = {} as Record<TerminalWho, Account>;
    for (const who of terminals) {
      const p = principal(who);
      const secret = generateSecret();
      const secretHash = await hashSecret(secret);
      await recordMosquittoHash(dataDir, p.terminalId, secretHash, secret);
      await store.addTerminal({ terminalId: p.terminalId, checkpointCode: p.checkpointCode, secretHash, listScopes: p.listScopes ?? [] });
      if (p.listScopes === null) store.forgetListScopes(p.terminalId);
      accounts[who] = { username: p.terminalId, password: secret };
    }
    const dir = tempDir();
    const outDir = join(dir, 'generated');
    // The test's own observer, beside what the command writes: it sees every topic, `$SYS/` too.
    const admin = { username: adminName, password: generateSecret() };
    const adminHash = await mosquittoPasswordHash(admin.password);
    const regenerate = async (): Promise<MosquittoConfigResult> => {
      const result = await writeMosquittoConfig({ store, dataDir, outDir });
      appendFileSync(result.passwordFile, `${adminName}:${adminHash}\n`);
      appendFileSync(result.aclFile, `\nuser ${adminName}\ntopic readwrite #\ntopic readwrite $SYS/#\n`);
      return result;
    };
    const first = await regenerate();
    const central = { username: first.centralUsername, password: readFileSync(first.centralPasswordFile!, 'utf8').trim() };
    const brokerDir = join(dir, 'broker');
    mkdirSync(brokerDir);
    const broker = await startMosquitto(brokerDir, () => {}, { security: readFileSync(first.confFile, 'utf8') });
    cleanUp.push(() => broker.stop());
    return { store, dataDir, outDir, broker, accounts, central, admin, regenerate };
  }

  /** Every message `client` receives, as `topic payload`. */
  function inbox(client: MqttClient): string[] {
    const seen: string[] = [];
    client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    return seen;
  }

  const arrived = (seen: string[], topic: string, payload: string) => seen.includes(`${topic} ${payload}`);

  async function publishAnswers(w: World, who: TerminalWho): Promise<string[]> {
    const observer = await connect(w, w.admin);
    const seen = inbox(observer);
    await observer.subscribeAsync(['#', '$SYS/#'], { qos: 1 });
    const p = principal(who);
    const client = await connect(w, w.accounts[who]);
    const marker = terminalTopic(p.checkpointCode, p.terminalId, 'telemetry');
    const answers: string[] = [];
    for (const [i, cell] of cells.filter((c) => c.who === who && c.action === 'publish' && concrete(c.topic)).entries()) {
      await client.publishAsync(cell.topic, `probe-${i}`, { qos: 1 });
      await client.publishAsync(marker, `marker-${i}`, { qos: 1 });
      await waitFor(() => arrived(seen, marker, `marker-${i}`), deadlineMs, `marker ${i} after ${cell.topic}`);
      expect(client.connected).toBe(true);
      answers.push(`${JSON.stringify(cell.topic)}: ${arrived(seen, cell.topic, `probe-${i}`) ? 'allowed' : 'refused'}`);
    }
    return answers;
  }

  async function subscribeAnswers(w: World, who: TerminalWho): Promise<string[]> {
    const publisher = await connect(w, w.admin);
    const p = principal(who);
    const client = await connect(w, w.accounts[who]);
    const seen = inbox(client);
    const markerTopic = (i: number): string => commandTopic(p.checkpointCode, p.terminalId, `marker-${i}`);
    const answers: string[] = [];
    for (const [i, cell] of cells.filter((c) => c.who === who && c.action === 'subscribe' && concrete(c.topic)).entries()) {
      await client.subscribeAsync([cell.topic, markerTopic(i)], { qos: 1 });
      await publisher.publishAsync(cell.topic, `probe-${i}`, { qos: 1 });
      await publisher.publishAsync(markerTopic(i), 'marker', { qos: 1 });
      await waitFor(() => arrived(seen, markerTopic(i), 'marker'), deadlineMs, `marker ${i} after ${cell.topic}`);
      await client.unsubscribeAsync([cell.topic, markerTopic(i)]);
      answers.push(`${JSON.stringify(cell.topic)}: ${arrived(seen, cell.topic, `probe-${i}`) ? 'allowed' : 'refused'}`);
    }
    return answers;
  }

  it.each(terminals.flatMap((who) => (['publish', 'subscribe'] as const).map((action) => [who, action] as const)))(
    '%s %s: every concrete topic of the ACL matrix answered as our broker answers it',
    async (who, action) => {
      const w = await world();
      const answers = action === 'publish' ? await publishAnswers(w, who) : await subscribeAnswers(w, who);
      expect(answers).toEqual(expectedConcrete(who, action));
    },
    120_000,
  );

  it('refuses a wrong password, and a terminal the central does not know', async () => {
    const w = await world();
    await expect(connectAsync(w.broker.url, options({ ...w.accounts.A, password: generateSecret() }))).rejects.toMatchObject({ code: 5 });
    await expect(connectAsync(w.broker.url, options({ username: 'gate-z', password: w.accounts.A.password }))).rejects.toMatchObject({ code: 5 });
    await expect(connectAsync(w.broker.url, { ...options(w.accounts.A), username: undefined, password: undefined })).rejects.toMatchObject({ code: 5 });
  });

  it('lets the central account (qrgate ingest) read what every terminal publishes and send it commands', async () => {
    const w = await world();
    const central = await connect(w, w.central, { clean: false });
    const seen = inbox(central);
    const granted = await central.subscribeAsync([...ingestFilters, commandTopic(X, 'gate-b', '#')], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1, 1]); // Mosquitto grants; delivery is what the ACL decides
    const a = await connect(w, w.accounts.A);
    const b = await connect(w, w.accounts.B);
    const bSeen = inbox(b);
    await b.subscribeAsync(commandTopic(X, 'gate-b', '#'), { qos: 1 });
    await a.publishAsync(terminalTopic(X, 'gate-a', 'events'), 'e1', { qos: 1 });
    await central.publishAsync(commandTopic(X, 'gate-b', 'open'), 'c1', { qos: 1 });
    await waitFor(() => arrived(seen, terminalTopic(X, 'gate-a', 'events'), 'e1'), deadlineMs, 'the event at the central account');
    await waitFor(() => arrived(bSeen, commandTopic(X, 'gate-b', 'open'), 'c1'), deadlineMs, 'the command at gate-b');
  });

  it('drops and refuses a removed terminal once the files are rewritten and Mosquitto reloaded; a rotated secret replaces the old one', async () => {
    const w = await world();
    const connectedA = await connect(w, w.accounts.A);
    const connectedE = await connect(w, w.accounts.E);
    const aClosed = new Promise<void>((resolve) => connectedA.once('close', () => resolve()));
    await removeTerminal(w.store, 'gate-a');
    const oldB = w.accounts.B.password;
    const rotated = await rotateTerminalSecret(w.store, 'gate-b', { dataDir: w.dataDir });
    // Rotated where no Mosquitto hash could be recorded (an older build, the console): left out, not let in on the old one.
    await rotateTerminalSecret(w.store, 'gate-c');
    const result = await w.regenerate();
    expect(result.needRotation).toEqual(['gate-c']);
    expect(readFileSync(result.passwordFile, 'utf8')).not.toMatch(/^gate-a:/m);
    expect(readFileSync(result.aclFile, 'utf8')).not.toContain('gate-a');
    w.broker.reload();
    // Mosquitto checks the connected clients against the reloaded files and drops the removed one.
    await withDeadline(aClosed, deadlineMs, 'gate-a disconnected at the reload');
    // The others stay connected: a round trip on gate-e's connection after gate-a's was dropped.
    await connectedE.publishAsync(terminalTopic(X, 'gate-e', 'telemetry'), 'still here', { qos: 1 });
    expect(connectedE.connected).toBe(true);
    await waitFor(
      () => connectAsync(w.broker.url, options(w.accounts.A)).then((c) => c.endAsync().then(() => false), (err: { code?: number }) => err.code === 5),
      deadlineMs,
      'gate-a refused after the reload',
    );
    await expect(connectAsync(w.broker.url, options({ ...w.accounts.B, password: oldB }))).rejects.toMatchObject({ code: 5 });
    await expect(connectAsync(w.broker.url, options(w.accounts.C))).rejects.toMatchObject({ code: 5 });
    await (await connect(w, { ...w.accounts.B, password: rotated.secret })).endAsync();
  });
});
