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
