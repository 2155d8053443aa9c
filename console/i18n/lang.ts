import { en } from './en.js';
import { vi, type MessageKey, type Messages } from './vi.js';

export const langs = ['vi', 'en'] as const;
export type Lang = (typeof langs)[number];

/** Remembers an explicit `?lang=` choice across pages. */
export const langCookieName = 'qrgate_lang';
export const langCookieMaxAgeS = 365 * 24 * 3600;

const catalogues: Record<Lang, Messages> = { vi, en };
const isLang = (value: string | undefined | null): value is Lang => value === 'vi' || value === 'en';

export interface LangSources {
  readonly query: URLSearchParams;
  readonly cookies: Readonly<Record<string, string | undefined>>;
  readonly acceptLanguage: string | undefined;
}

/**
 * The visitor's language: `?lang=` when given (and then remembered), else the cookie, else
 * the first of vi/en the browser's Accept-Language names, else Vietnamese: the users are
 * Vietnamese, English is on request.
 */
export function chooseLang(sources: LangSources): { readonly lang: Lang; readonly chosenNow: boolean } {
  const asked = sources.query.get('lang');
  if (isLang(asked)) return { lang: asked, chosenNow: true };
  const remembered = sources.cookies[langCookieName];
  if (isLang(remembered)) return { lang: remembered, chosenNow: false };
  return { lang: fromAcceptLanguage(sources.acceptLanguage), chosenNow: false };
}

function fromAcceptLanguage(header: string | undefined): Lang {
  const ranked = (header ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { primary: tag.toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((entry) => entry.primary).find(isLang) ?? 'vi';
}

export type Translate = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string;

export function translator(lang: Lang): Translate {
  const messages = catalogues[lang];
  return (key, values) => messages[key].replace(/\{(\w+)\}/g, (whole, name: string) => (values?.[name] === undefined ? whole : String(values[name])));
}
