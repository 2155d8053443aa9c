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
