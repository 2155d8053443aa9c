import type { Lang } from './i18n/lang.js';

import { siteTimeZone } from './shared/siteTime.js';

export { formatDateTime } from './shared/siteTime.js';

const numbers: Record<Lang, Intl.NumberFormat> = { vi: new Intl.NumberFormat('vi-VN'), en: new Intl.NumberFormat('en-GB') };

export const formatCount = (lang: Lang, n: number): string => numbers[lang].format(n);

const hours = new Intl.DateTimeFormat('en-GB', { timeZone: siteTimeZone, hour: '2-digit', minute: '2-digit', hour12: false });
const days: Record<Lang, Intl.DateTimeFormat> = {
  vi: new Intl.DateTimeFormat('vi-VN', { timeZone: siteTimeZone, day: '2-digit', month: '2-digit' }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: siteTimeZone, day: 'numeric', month: 'short' }),
};
/** The local clock time of an instant, 24-hour (`14:00`), the same in both languages. */
export const formatHour = (ms: number): string => hours.format(new Date(ms));
/** The local day of an instant without the year (`03/12`, `3 Dec`). */
export const formatDay = (lang: Lang, ms: number): string => days[lang].format(new Date(ms));
/** A duration as a person reads it at a glance: the largest unit only (45 s, 12 min, 5 h, 3 d). */
export function formatAge(lang: Lang, seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [value, unit] = s < 60 ? [s, 'second'] : s < 3600 ? [Math.floor(s / 60), 'minute'] : s < 86_400 ? [Math.floor(s / 3600), 'hour'] : [Math.floor(s / 86_400), 'day'];
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { style: 'unit', unit, unitDisplay: 'short' }).format(value);
}
