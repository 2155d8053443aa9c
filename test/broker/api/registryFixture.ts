import { expect } from 'vitest';
import { createToken } from '../../../broker/access/tokens.js';
import { CP_A } from '../store/scanEvents.js';
import type { Api } from './apiHarness.js';

/** ID numbers of the people below: they must never come back in a response, a log line or the audit log. */
export const AN = '046085000101';
export const BINH = '046185000102';
export const CUONG = '046090000103';

export const MAY_HUE = 'Công ty May Huế';
export const TO_5 = 'Tổ dân phố 5';

export const peopleCsv =
  'name,phone,address,unit,scope,idNumber,status\n' +
  `Nguyễn Văn An,0905123456,"12 Lê Lợi, Phường Phú Hội, Huế",${MAY_HUE},site-a,${AN},allow\n` +
  `Trần Thị Bình,0914000111,,${MAY_HUE},site-a,${BINH},check\n` +
  `Lê Văn Cường,0935000222,,${TO_5},phu-hoi,${CUONG},allow\n`;

/** Tokens of each role (the guard's checkpoint registered first), and JSON requests with one of them. */
export async function registryClient(api: Api) {
  if ((await api.store.getCheckpoint(CP_A)) === null) await api.store.createCheckpoint({ code: CP_A, name: 'Cổng A', direction: 'both', confirm: 'auto' });
  const token = async (role: 'manager' | 'guard' | 'inspector', unit?: string) =>
    (await createToken(api.registry, { name: `test ${role}`, role, createdBy: 'test', ...(unit ? { unit } : {}), ...(role === 'guard' ? { checkpoints: [CP_A] } : {}) })).token;
  const tokens = {
    admin: api.adminToken,
    managerOwn: await token('manager', MAY_HUE),
    managerOther: await token('manager', TO_5),
    guard: await token('guard'),
    inspector: await token('inspector'),
  };
  type Who = keyof typeof tokens | null;
  const send = (method: string, path: string, body?: unknown, who: Who = 'admin') =>
    api.get(path, {
      method,
      token: who === null ? null : tokens[who],
      ...(body === undefined ? {} : typeof body === 'string' ? { body, headers: { 'content-type': 'text/csv' } } : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
  const json = async (method: string, path: string, body?: unknown, who: Who = 'admin', status = 200) => {
    const response = await send(method, path, body, who);
    const text = await response.text();
    expect(response.status, text).toBe(status);
    return JSON.parse(text) as Record<string, any>;
  };
  return { tokens, send, json };
}

/** Everything a user or an operator could read back: no raw ID number may be in it. */
export function expectNoRawIds(api: Api, ...texts: string[]): void {
  const audit = JSON.stringify(api.db.prepare('SELECT * FROM audit_log').all());
  const logs = JSON.stringify(api.log.lines);
  for (const text of [audit, logs, ...texts]) for (const id of [AN, BINH, CUONG]) expect(text).not.toContain(id);
}
