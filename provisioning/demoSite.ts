import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TerminalConfigInput } from '../gateway/config.js';
import { createRefHasher } from '../protocol/credentialRef.js';
import { generateKeyFiles, loadAuthorityPrivateKey, loadRefKey } from '../protocol/keys.js';
import { encodeSignedList } from '../protocol/lists/index.js';
import { generateCheckpointCode } from '../protocol/checkpointCode.js';
import { samplePerson, type SamplePerson, type SampleStatus } from './samplePeople.js';

/**
 * Invented people, their signed list and simulated lanes: what the demo and the tests stand
 * a checkpoint on. Nothing here is real personal data.
 */

const DAY_MS = 86_400_000;
export const demoScope = 'demo-site';

export interface DemoPeople {
  readonly people: readonly SamplePerson[];
  /** People who are on no list: their scans are refused as unknown. */
  readonly strangers: readonly SamplePerson[];
}

/** Mostly allowed; every 15th denied, every 15th (offset) needing an operator; a third with cards. */
export function demoPeople(count = 60): DemoPeople {
  const statusOf = (i: number): SampleStatus => (i % 15 === 7 ? 'deny' : i % 15 === 11 ? 'check' : 'allow');
  return {
    people: Array.from({ length: count }, (_, i) => samplePerson(i, statusOf(i), i % 3 === 0)),
    strangers: Array.from({ length: 8 }, (_, i) => samplePerson(900_000 + i, 'allow', i % 2 === 0)),
  };
}

/** Signs the people's list (citizen ids and cards) with the authority key in `keysDir`. */
export function writeDemoList(keysDir: string, listFile: string, people: readonly SamplePerson[]): void {
  const hashRef = createRefHasher(loadRefKey(join(keysDir, 'ref.key')));
  const entries = people.flatMap((person) => [
    { ref: hashRef('citizen', person.idNumber), status: person.status },
    ...(person.cardId ? [{ ref: hashRef('card', person.cardId), status: person.status }] : []),
  ]);
  const now = Date.now();
  const header = {
    kind: 'snapshot' as const,
    scope: demoScope,
    version: 1,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 30 * DAY_MS).toISOString(),
  };
  writeFileSync(listFile, encodeSignedList(header, entries, loadAuthorityPrivateKey(join(keysDir, 'authority.key'))));
}

/**
 * Two simulated lanes: `in` unattended, `out` attended (people with a `check` entry wait for
 * the operator there). Sim GPIO lines as in docs/examples/terminal.sim.json.
 */
export function demoLanes(): NonNullable<TerminalConfigInput['lanes']> {
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
  return [lane('in', 'in', 17), { ...lane('out', 'out', 5), attended: true }];
}

export const demoPolicy = { debounceMs: 3000, relayPulseMs: 1000, manualTimeoutMs: 4000, onStaleList: 'deny', antiPassback: 'soft' } as const;

export interface DemoSite extends DemoPeople {
  readonly configFile: string;
  readonly listFile: string;
}

export interface DemoSiteOptions {
  readonly people?: number;
  /** Replaces the two simulated lanes (tests put a pty scanner here). */
  readonly lanes?: TerminalConfigInput['lanes'];
  readonly policy?: TerminalConfigInput['policy'];
}

/** One offline terminal with everything a technician would have set up, in `dir`. */
export function createDemoSite(dir: string, options: DemoSiteOptions = {}): DemoSite {
  const keysDir = join(dir, 'keys');
  generateKeyFiles(keysDir);
  const { people, strangers } = demoPeople(options.people);
  const listFile = join(dir, `${demoScope}.v1.qgl`);
  writeDemoList(keysDir, listFile, people);
  const config: TerminalConfigInput = {
    terminalId: 'demo-gate-1',
    checkpoint: { code: generateCheckpointCode(), name: 'Cổng A — Nhà máy demo', confirm: 'auto' },
    dataDir: 'data',
    keys: { listPublicKeys: ['keys/authority.pub'], refKey: 'keys/ref.key' },
    lists: [demoScope],
    lanes: options.lanes ?? demoLanes(),
    policy: options.policy ?? demoPolicy,
  };
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'terminal.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return { configFile, listFile, people, strangers };
}
