import type { ApiResponse, HttpError } from '../../broker/api/http.js';
import type { FailedPageRequest } from '../../broker/api/pages.js';
import { html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, pageContext, seeOther } from '../pageContext.js';

const explained = new Set([401, 403, 404, 429]);

/**
 * A page that failed, answered for a person: no session sends the browser to the login page
 * and back here after it; anything else is a page in the visitor's language.
 */
export function renderPageError(error: HttpError, request: FailedPageRequest): ApiResponse {
  if (error.status === 401) return seeOther(`/login?next=${encodeURIComponent(request.url)}`);
  const context = pageContext({ ...request, principal: null, sessionId: null });
  const { t } = context;
  const message = explained.has(error.status) ? t(`error.${error.status as 403 | 404 | 429}`) : t('error.other');
  const page = layout(context, { title: t('error.title'), path: '' }, html`<div class="card"><p class="error">${message}</p><p><a href="/">${t('error.home')}</a></p></div>`);
  const response = htmlResponse(context, page, error.status);
  return error.headers['retry-after'] === undefined ? response : { ...response, headers: { 'retry-after': error.headers['retry-after'] } };
}
