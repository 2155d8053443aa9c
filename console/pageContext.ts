import { csrfTokenFor } from '../broker/access/sessions.js';
import type { Principal } from '../broker/access/roles.js';
import type { ApiResponse, CookieChange } from '../broker/api/http.js';
import type { RouteRequest } from '../broker/api/route.js';
import { chooseLang, langCookieMaxAgeS, langCookieName, translator, type Lang, type Translate } from './i18n/lang.js';
import { html, type Html } from './html.js';

/** What every page knows of its visitor. */
export interface PageContext {
  readonly lang: Lang;
  readonly t: Translate;
  readonly principal: Principal | null;
  /** For the hidden `_csrf` field of every form that changes something. */
  readonly csrfToken: string | null;
  /** The cookie that remembers a language picked on this request, if one was. */
  readonly langCookie: readonly CookieChange[];
}

type Visitor = Pick<RouteRequest, 'query' | 'cookies' | 'headers' | 'principal' | 'sessionId'>;

export function pageContext(request: Visitor): PageContext {
  const acceptLanguage = request.headers['accept-language'];
  const { lang, chosenNow } = chooseLang({ query: request.query, cookies: request.cookies, acceptLanguage: typeof acceptLanguage === 'string' ? acceptLanguage : undefined });
  return {
    lang,
    t: translator(lang),
    principal: request.principal,
    csrfToken: request.sessionId === null ? null : csrfTokenFor(request.sessionId),
    langCookie: chosenNow ? [{ name: langCookieName, value: lang, maxAgeS: langCookieMaxAgeS }] : [],
  };
}

export function htmlResponse(context: Pick<PageContext, 'langCookie'>, page: Html, status = 200): ApiResponse {
  return { status, text: page.text, contentType: 'text/html; charset=utf-8', cookies: context.langCookie };
}

/** 303 See Other: after a form post the browser GETs the next page, so a reload posts nothing twice. */
export function seeOther(location: string, cookies: readonly CookieChange[] = []): ApiResponse {
  return { status: 303, headers: { location }, text: '', contentType: 'text/plain; charset=utf-8', cookies };
}

/** Only a path on this central: `next=https://elsewhere` must not turn the login into an open redirect. */
export function localPath(candidate: string | null | undefined, fallback = '/'): string {
  if (candidate === null || candidate === undefined) return fallback;
  return /^\/(?![/\\])[^\s]*$/.test(candidate) ? candidate : fallback;
}

/** The hidden field every form that changes something carries (fleet, lists pages). */
export function csrfField(context: Pick<PageContext, 'csrfToken'>): Html {
  return html`<input type="hidden" name="_csrf" value="${context.csrfToken ?? ''}">`;
}
