import type { Lang } from './i18n/lang.js';

export { formatDateTime } from './shared/siteTime.js';

const numbers: Record<Lang, Intl.NumberFormat> = { vi: new Intl.NumberFormat('vi-VN'), en: new Intl.NumberFormat('en-GB') };

export const formatCount = (lang: Lang, n: number): string => numbers[lang].format(n);
