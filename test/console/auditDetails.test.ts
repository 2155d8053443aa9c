import { describe, expect, it } from 'vitest';
import { auditDetailsText } from '../../console/auditDetails.js';
import { translator } from '../../console/i18n/lang.js';

/** The audit page's details column, as the admin reads it (console/pages/audit.ts). */
describe('audit details as a person reads them', () => {
  const published = { version: 2, count: 1, added: 1, changed: 0, removed: 0, expiresAt: '2026-12-10T03:00:00.000Z' };

  it('names every field in Vietnamese by default, with the date in the site time', () => {
    expect(auditDetailsText(translator('vi'), 'vi', published)).toBe('Phiên bản: 2 · Số mục: 1 · Thêm mới: 1 · Thay đổi: 0 · Đã xoá: 0 · Hết hạn lúc: 10:00:00 10/12/2026');
  });

  it('and in English on request', () => {
    expect(auditDetailsText(translator('en'), 'en', published)).toMatch(/^Version: 2 · Entries: 1 · Added: 1 · Changed: 0 · Removed: 0 · Expires at: /);
  });

  it('reads yes/no, lists, and a checkpoint change as before → after', () => {
    const t = translator('vi');
    expect(auditDetailsText(t, 'vi', { role: 'manager', unit: 'xuong-a', checkpoints: ['12345678901234', '12345678901235'], passwordGenerated: true })).toBe(
      'Vai trò: manager · Đơn vị: xuong-a · Các điểm kiểm soát: 12345678901234, 12345678901235 · Mật khẩu do máy tạo: có',
    );
    expect(auditDetailsText(t, 'vi', { changed: { unit: ['xuong-a', 'xuong-b'], latitude: [null, 10.76] } })).toBe('Thay đổi: Đơn vị: xuong-a → xuong-b, Vĩ độ: — → 10.76');
    // Outside `changed`, a two-item array is a list, not a change.
    expect(auditDetailsText(t, 'vi', { lists: ['default', 'staff'] })).toBe('Danh sách: default, staff');
    // A field not given reads as such, not as an empty gap before the next dot.
    expect(auditDetailsText(t, 'vi', { name: 'Cổng chính', unit: '' })).toBe('Tên: Cổng chính · Đơn vị: —');
  });

  it('shows a field it has no label for under its own name rather than hiding it', () => {
    expect(auditDetailsText(translator('vi'), 'vi', { somethingNew: 3 })).toBe('somethingNew: 3');
  });
});
