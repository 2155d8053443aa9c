/**
 * Times as people on site read them: their own zone, their own order of day and month. No
 * dependency at all, so the central's pages and the browser's live rows format alike.
 */
export type SiteLang = 'vi' | 'en';

export const siteTimeZone = 'Asia/Ho_Chi_Minh';

const dateTimes: Record<SiteLang, Intl.DateTimeFormat> = {
  vi: new Intl.DateTimeFormat('vi-VN', { timeZone: siteTimeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: siteTimeZone, dateStyle: 'medium', timeStyle: 'medium' }),
};

export const formatDateTime = (lang: SiteLang, iso: string): string => dateTimes[lang].format(new Date(iso));

/** Vietnam has kept UTC+7 all year since 1975: a local wall time is that offset, no DST. */
export const siteOffset = '+07:00';
