import type { Lang } from './i18n/lang.js';

/** Times as people on site read them: their own zone, their own order of day and month. */
const siteTimeZone = 'Asia/Ho_Chi_Minh';

const dateTimes: Record<Lang, Intl.DateTimeFormat> = {
  vi: new Intl.DateTimeFormat('vi-VN', { timeZone: siteTimeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: siteTimeZone, dateStyle: 'medium', timeStyle: 'medium' }),
};
const numbers: Record<Lang, Intl.NumberFormat> = { vi: new Intl.NumberFormat('vi-VN'), en: new Intl.NumberFormat('en-GB') };

export const formatDateTime = (lang: Lang, iso: string): string => dateTimes[lang].format(new Date(iso));
export const formatCount = (lang: Lang, n: number): string => numbers[lang].format(n);

/** A duration as a person reads it at a glance: the largest unit only (45 s, 12 min, 5 h, 3 d). */
export function formatAge(lang: Lang, seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [value, unit] = s < 60 ? [s, 'second'] : s < 3600 ? [Math.floor(s / 60), 'minute'] : s < 86_400 ? [Math.floor(s / 3600), 'hour'] : [Math.floor(s / 86_400), 'day'];
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { style: 'unit', unit, unitDisplay: 'short' }).format(value);
}
