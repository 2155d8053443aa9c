import { formatDateTime } from './format.js';
import type { Lang, Translate } from './i18n/lang.js';
import { isMessageKey } from './i18n/vi.js';

/**
 * An audit entry's details as a person reads them in their language: `Phiên bản: 2 · Số mục: 1`,
 * not `version 2 · count 1` or JSON. Field names come from the catalogue (`audit.detail.*`); a
 * field it does not know yet shows its own name, so a new fact is never hidden. Values that are
 * codes (roles, statuses, units) stay as written: they are what the filters and the CLI take.
 */
export function auditDetailsText(t: Translate, lang: Lang, details: Readonly<Record<string, unknown>>): string {
  const label = (field: string): string => {
    const key = `audit.detail.${field}`;
    return isMessageKey(key) ? t(key) : field;
  };
  const show = (value: unknown, isChange = false): string => {
    // '' is how the registry writes a field not given (a checkpoint's unit): shown as nothing given.
    if (value === null || value === undefined || value === '') return '—';
    if (typeof value === 'boolean') return t(value ? 'audit.yes' : 'audit.no');
    if (typeof value === 'string' && isoInstant.test(value)) return formatDateTime(lang, value);
    if (Array.isArray(value)) return isChange && value.length === 2 ? `${show(value[0])} → ${show(value[1])}` : value.map((item) => show(item)).join(', ');
    if (isRecord(value)) return fields(value, ', ', false);
    return String(value);
  };
  // Inside `changed`, each field is [before, after] (auditFacts.ts checkpointChanges).
  const fields = (record: Readonly<Record<string, unknown>>, separator: string, areChanges: boolean): string =>
    Object.entries(record)
      .map(([field, value]) => `${label(field)}: ${field === 'changed' && isRecord(value) ? fields(value, ', ', true) : show(value, areChanges)}`)
      .join(separator);
  return fields(details, ' · ', false);
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
