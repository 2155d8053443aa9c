import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../broker/store/cursor.js';

describe('event cursor', () => {
  const id = '01890a5d-ac96-774b-bcce-b302099a8057';

  it('round-trips a position, before 1970 included, as URL-safe text', () => {
    for (const tsMs of [0, 1_746_086_400_000, -86_400_000]) {
      const text = encodeCursor({ tsMs, id });
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(text)).toEqual({ tsMs, id });
    }
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['too long', 'A'.repeat(500)],
    ['another version', Buffer.from(`2:0:${id}`).toString('base64url')],
    ['extra field', Buffer.from(`1:0:${id}:x`).toString('base64url')],
    ['bad timestamp', Buffer.from(`1:1e3:${id}`).toString('base64url')],
    ['unsafe timestamp', Buffer.from(`1:9999999999999999:${id}`).toString('base64url')],
    ['bad id', Buffer.from('1:0:../../etc').toString('base64url')],
    ['upper-case id', Buffer.from(`1:0:${id.toUpperCase()}`).toString('base64url')],
  ])('refuses a cursor that is %s', (_what, text) => {
    expect(() => decodeCursor(text)).toThrow(expect.objectContaining({ code: 'cursor-invalid' }));
  });
});
