import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { createSession } from '../../../broker/access/sessions.js';
import { createToken, revokeToken, type NewToken } from '../../../broker/access/tokens.js';
import { addUser } from '../../../broker/access/users.js';
import { centralDbFileName, loadCentralConfig, type CentralConfigInput } from '../../../broker/config.js';
import { importMembers } from '../../../broker/registry/membersImport.js';
import { openRegistryDb, registryRefHasher } from '../../../broker/registry/registryDb.js';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { scanEvent } from '../store/scanEvents.js';
import type { Api, ApiOptions } from './apiHarness.js';
import { site } from './authz/row.js';

/** The instant the site is seeded at; its events are the minutes before it. */
export const T0 = Date.UTC(2025, 4, 31, 5); // 12:00 in Huế
export const MINUTE = 60_000;

/** Short lifetimes, so expiry is a few clock steps away; idle well below absolute. */
export const sessionLimits = { idleMinutes: 30, absoluteHours: 1 } as const;

/** Principals holding a bearer token, by the matrix's column names. */
export type TokenHolder = 'admin' | 'managerOwn' | 'managerOther' | 'guard' | 'guardOther' | 'inspector' | 'readOnly';

interface SiteTokens {
  readonly tokens: Readonly<Record<TokenHolder, string>>;
  /** Tokens that must be refused, each for its own reason. */
  readonly badTokens: Readonly<Record<'malformed' | 'unknown' | 'revoked' | 'expired', string>>;
}

export interface SiteWorld extends SiteTokens {
  readonly api: Api;
  /** The server's clock, at T0 when the world starts: move it with `advance`. */
  readonly clock: { t: number };
  advance(ms: number): void;
}

const scopes: Readonly<Record<TokenHolder, Omit<NewToken, 'name' | 'createdBy'>>> = {
  admin: { role: 'admin' },
  managerOwn: { role: 'manager', unit: site.units.own },
  managerOther: { role: 'manager', unit: site.units.other },
  guard: { role: 'guard', checkpoints: [site.checkpoints.own] },
  guardOther: { role: 'guard', checkpoints: [site.checkpoints.other] },
  inspector: { role: 'inspector' },
  readOnly: { role: 'admin', readOnly: true },
};

const membersCsv =
  'name,phone,address,unit,scope,idNumber,status\n' +
  [site.members.own, site.members.other]
    .map((m, i) => `"${m.name}",${m.phone},"${m.address}","${i === 0 ? site.units.own : site.units.other}",${m.scope},${m.idNumber},allow`)
    .join('\n') +
  '\n';

/**
 * Writes a central folder holding `site` (row.ts) — checkpoints, terminals, members
 * imported as `qrgate members import` does, events by both members at both gates, the user
 * and a token per column — and closes it, so tests start from copies (scrypt and seeding
 * once, not per cell).
 */
async function writeSite(dir: string, http: CentralConfigInput['http']): Promise<SiteTokens> {
  const config = loadCentralConfig(writeLocalCentral(dir, { http: { host: '127.0.0.1', port: 0, sessions: sessionLimits, publicLookupsPerMinute: 10_000, ...http } }));
  const store = new SqliteCentralStore({ file: join(config.dataDir, centralDbFileName), logger: silentLogger() });
  await store.migrate();
  const db = openRegistryDb(config);
  try {
    await store.createCheckpoint({ code: site.checkpoints.own, name: 'Cổng May', direction: 'both', confirm: 'auto', unit: site.units.own });
    await store.createCheckpoint({ code: site.checkpoints.other, name: 'Cổng Tổ 5', direction: 'both', confirm: 'manual', unit: site.units.other });
    await store.addTerminal({ terminalId: site.terminals.own, checkpointCode: site.checkpoints.own, secretHash: 'h', listScopes: ['site-a'] });
    await store.addTerminal({ terminalId: site.terminals.other, checkpointCode: site.checkpoints.other, secretHash: 'h', listScopes: ['site-a'] });

    const hasher = registryRefHasher(config);
    await importMembers({ db: new SqliteRegistryDb(db), hasher, input: Readable.from([membersCsv]), nowMs: () => T0 });
    const events: ScanEvent[] = [];
    for (const [terminalId, code] of [
      [site.terminals.own, site.checkpoints.own],
      [site.terminals.other, site.checkpoints.other],
    ] as const) {
      // seq 1: the own unit's member, 10 minutes ago; seq 2: the other unit's, 9 minutes ago.
      for (const [i, member] of [site.members.own, site.members.other].entries()) {
        events.push({ ...scanEvent({ terminalId, checkpointCode: code, seq: i + 1, tsMs: T0 - (10 - i) * MINUTE }), credentialRef: refToHex(hasher('citizen', member.idNumber)) });
      }
    }
    await store.insertEvents(events, T0);
    const registry = new SqliteRegistryDb(db);
    await addUser(registry, { username: site.user.username, role: site.user.role, password: site.user.password }, T0);

    const token = (scope: Omit<NewToken, 'name' | 'createdBy'>, nowMs = T0) => createToken(registry, { name: 'matrix', createdBy: 'test', ...scope }, nowMs);
    const tokens: Record<string, string> = {};
    for (const [holder, scope] of Object.entries(scopes)) tokens[holder] = (await token(scope)).token;
    const revoked = await token({ role: 'admin' });
    await revokeToken(registry, revoked.info.tokenId, T0);
    const badTokens = {
      malformed: 'qrg_not-a-token',
      unknown: `qrg_abcdefghij_${'A'.repeat(43)}`,
      revoked: revoked.token,
      // Valid for one day, from two days before T0.
      expired: (await token({ role: 'admin', expiresDays: 1 }, T0 - 2 * 24 * 60 * MINUTE)).token,
    };
    return { tokens: tokens as Record<TokenHolder, string>, badTokens };
  } finally {
    db.close();
    await store.close();
  }
}

/**
 * The seeded site for a test file: written once before its tests, and `world()` starts a
 * real API server on a fresh copy of it with the clock at T0. `http` overrides the site's
 * http config (sessions, rate limits, TLS).
 */
export function useSite(startApi: (options?: ApiOptions) => Promise<Api>, http: CentralConfigInput['http'] = {}): () => Promise<SiteWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-site-'));
  let seeded: SiteTokens | undefined;
  beforeAll(async () => {
    seeded = await writeSite(dir, http);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return async () => {
    if (seeded === undefined) throw new Error('useSite: the site is written in beforeAll');
    const clock = { t: T0 };
    const api = await startApi({ copyOf: dir, now: () => clock.t });
    return {
      api,
      clock,
      advance: (ms) => {
        clock.t += ms;
      },
      ...seeded,
    };
  };
}

/** A session for `site.user` started now by the server's clock, as a login makes one. */
export function startSession(world: SiteWorld): Promise<{ readonly id: string; readonly csrfToken: string }> {
  return createSession(world.api.registry, site.user.username, '127.0.0.1', world.clock.t);
}
