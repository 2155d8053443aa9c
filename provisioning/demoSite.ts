import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TerminalConfigInput } from '../gateway/config.js';
import { createRefHasher } from '../protocol/credentialRef.js';
import { generateKeyFiles, loadAuthorityPrivateKey, loadRefKey } from '../protocol/keys.js';
import { encodeSignedList } from '../protocol/lists/index.js';
import { generateCheckpointCode } from '../protocol/checkpointCode.js';
import { samplePerson, type SamplePerson, type SampleStatus } from './samplePeople.js';

export interface DemoSite {
  readonly configFile: string;
  readonly listFile: string;
  readonly people: readonly SamplePerson[];
  /** People who are on no list: their scans are refused as unknown. */
  readonly strangers: readonly SamplePerson[];
}

const DAY_MS = 86_400_000;

/**
 * Everything a technician would have set up for one checkpoint, made in `dir`: keys, a
 * signed list of invented people, and a terminal config with two simulated lanes.
 */
export interface DemoSiteOptions {
  readonly people?: number;
  /** Replaces the two simulated lanes (tests put a pty scanner here). */
  readonly lanes?: TerminalConfigInput['lanes'];
  readonly policy?: TerminalConfigInput['policy'];
}

export function createDemoSite(dir: string, options: DemoSiteOptions = {}): DemoSite {
  const keysDir = join(dir, 'keys');
  generateKeyFiles(keysDir);
  const count = options.people ?? 60;
  const statusOf = (i: number): SampleStatus => (i % 15 === 7 ? 'deny' : i % 15 === 11 ? 'check' : 'allow');
  const people = Array.from({ length: count }, (_, i) => samplePerson(i, statusOf(i), i % 3 === 0));
  const strangers = Array.from({ length: 8 }, (_, i) => samplePerson(900_000 + i, 'allow', i % 2 === 0));

  const hashRef = createRefHasher(loadRefKey(join(keysDir, 'ref.key')));
  const entries = people.flatMap((person) => [
    { ref: hashRef('citizen', person.idNumber), status: person.status },
    ...(person.cardId ? [{ ref: hashRef('card', person.cardId), status: person.status }] : []),
  ]);
  const now = Date.now();
  const list = encodeSignedList(
    {
      kind: 'snapshot',
      scope: 'demo-site',
      version: 1,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 30 * DAY_MS).toISOString(),
    },
    entries,
    loadAuthorityPrivateKey(join(keysDir, 'authority.key')),
  );
  const listFile = join(dir, 'demo-site.v1.qgl');
  writeFileSync(listFile, list);

  const lane = (name: string, direction: 'in' | 'out', firstLine: number) => ({
    name,
    direction,
    scanner: { type: 'sim' as const },
    gpio: {
      type: 'sim' as const,
      outputs: { green: firstLine, red: firstLine + 1, buzzer: firstLine + 2, relay: firstLine + 3 },
      inputs: { confirm: firstLine + 4, reject: firstLine + 5 },
    },
  });
  const config: TerminalConfigInput = {
    terminalId: 'demo-gate-1',
    checkpoint: { code: generateCheckpointCode(), name: 'Cổng A — Nhà máy demo', confirm: 'auto' },
    dataDir: 'data',
    keys: { listPublicKeys: ['keys/authority.pub'], refKey: 'keys/ref.key' },
    lists: ['demo-site'],
    // The out lane is attended, so people with a `check` entry wait for the operator there.
    lanes: options.lanes ?? [lane('in', 'in', 17), { ...lane('out', 'out', 5), attended: true }],
    policy: options.policy ?? { debounceMs: 3000, relayPulseMs: 1000, manualTimeoutMs: 4000, onStaleList: 'deny', antiPassback: 'soft' },
  };
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'terminal.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return { configFile, listFile, people, strangers };
}
