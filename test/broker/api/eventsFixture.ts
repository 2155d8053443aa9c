import { Readable } from 'node:stream';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import { importMembers } from '../../../broker/registry/membersImport.js';
import { registryRefHasher } from '../../../broker/registry/registryDb.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import type { Decision, Direction, ScanEvent } from '../../../protocol/event.js';
import { CP_A, CP_B, scanEvent } from '../store/scanEvents.js';
import type { Api, ApiOptions } from './apiHarness.js';

/**
 * A small in/out log for the log's routes (eventsCsv, eventsLive): two units, a checkpoint
 * each, a registered person in each, and events generated at both.
 */

/** 2025-05-31 23:30 UTC: already 1 June in Vietnam, which the file name and local times must show. */
export const NOW = Date.UTC(2025, 4, 31, 23, 30);
export const MINUTE = 60_000;
export const ANH = { id: '046190000201', name: 'Nguyễn Thị Ánh', unit: 'Công ty May Huế' };
export const DUC = { id: '046090000202', name: 'Phạm Đức Lộc', unit: 'Tổ dân phố 5' };
const membersCsv =
  'name,phone,address,unit,scope,idNumber,status\n' +
  `${ANH.name},0905123456,"12 Lê Lợi, Huế",${ANH.unit},site-a,${ANH.id},allow\n` +
  `${DUC.name},0914000111,,${DUC.unit},site-a,${DUC.id},check\n`;

/** Checkpoint A belongs to Ánh's unit, B to Lộc's; both people are registered. */
export async function seededApi(
  startApi: (options?: ApiOptions) => Promise<Api>,
  liveLog: Pick<ApiOptions, 'liveEvents' | 'live'> = {},
): Promise<{ api: Api; ref: (idNumber: string) => string }> {
  const api = await startApi({ ...liveLog, nowMs: NOW });
  await api.store.createCheckpoint({ code: CP_A, name: 'Cổng "Bắc", khu A', direction: 'both', confirm: 'auto', unit: ANH.unit });
  await api.store.createCheckpoint({ code: CP_B, name: 'Cổng Tổ 5', direction: 'both', confirm: 'auto', unit: DUC.unit });
  const hasher = registryRefHasher(api.config);
  await importMembers({ db: new SqliteRegistryDb(api.db), hasher, input: Readable.from([membersCsv]), nowMs: () => NOW });
  return { api, ref: (idNumber) => refToHex(hasher('citizen', idNumber)) };
}

const decisionsCycle: readonly Decision[] = ['granted', 'granted', 'refused', 'duplicate'];
const directionsCycle: readonly Direction[] = ['in', 'out', 'in'];

/**
 * Makes events a minute apart going back from NOW, spread over both checkpoints, two
 * terminals each (each with its own unbroken sequence), both people and unregistered scans.
 */
export function eventMaker(ref: (idNumber: string) => string): (count: number) => ScanEvent[] {
  const seqs = new Map<string, number>();
  let i = 0;
  return (count) =>
    Array.from({ length: count }, () => {
      const atA = i % 3 !== 0;
      const terminalId = `${atA ? 'gate-a' : 'gate-b'}-${1 + (i % 2)}`;
      const seq = (seqs.get(terminalId) ?? 0) + 1;
      // Scrambled, so no filter's combination is empty by the cycles lining up.
      const draw = Math.imul(i + 1, 0x9e3779b1) >>> 8;
      seqs.set(terminalId, seq);
      const base = scanEvent(
        {
          terminalId,
          checkpointCode: atA ? CP_A : CP_B,
          seq,
          tsMs: NOW - (i + 1) * MINUTE,
          decision: decisionsCycle[draw % decisionsCycle.length],
          direction: directionsCycle[(draw >>> 4) % directionsCycle.length],
        },
        false,
      );
      const who = i % 5 === 0 ? null : i % 2 === 0 ? ref(ANH.id) : ref(DUC.id);
      i++;
      return { ...base, credentialType: who === null ? 'unknown' : 'cccd', credentialRef: who };
    });
}

