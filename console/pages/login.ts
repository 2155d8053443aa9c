import { z } from 'zod';
import { endSession, sessionCookieName } from '../../broker/access/sessions.js';
import type { Route } from '../../broker/api/route.js';
import { everyRole } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, localPath, pageContext, seeOther, type PageContext } from '../pageContext.js';

const loginForm = z.object({ username: z.string().max(200).default(''), password: z.string().max(1000).default(''), next: z.string().max(2000).optional() });

function loginPage(context: PageContext, form: { username: string; next: string; problem?: string }) {
  const { t } = context;
  return layout(
    context,
    { title: t('login.title'), path: '/login' },
    html`<div class="card narrow">
<p class="hint">${t('login.intro')}</p>
${form.problem === undefined ? '' : html`<p class="error" role="alert" id="login-problem">${form.problem}</p>`}
<form method="post" action="/login">
  <input type="hidden" name="next" value="${form.next}">
  <label for="username">${t('login.username')}</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${form.username}"${form.problem === undefined ? '' : html` aria-describedby="login-problem"`}>
  <label for="password">${t('login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">${t('login.submit')}</button>
</form>
<p class="hint"><a href="/check">${t('login.publicCheck')}</a></p>
</div>`,
  );
}

/**
 * The console's door: a plain form (works with scripts off and from the keyboard alone)
 * posting to the central's one LoginDesk, the same throttle the JSON login uses. Success sends
 * the browser on to where it was going, on this central only.
 */
export function loginRoutes(deps: Pick<RouteDeps, 'config' | 'logins'>): Route[] {
  const cookieMaxAgeS = deps.config.http.sessions.absoluteHours * 3600;
  return [
    {
      path: '/login',
      access: 'public',
      readsQuery: true,
      async handle(request) {
        const context = pageContext(request);
        const next = localPath(request.query.get('next'));
        if (request.principal !== null) return seeOther(next, context.langCookie);
        return htmlResponse(context, loginPage(context, { username: '', next }));
      },
    },
    {
      method: 'POST',
      path: '/login',
      access: 'public',
      readsQuery: true,
      bodyLimit: 16 * 1024,
      rateLimitPerMinute: deps.config.http.publicLookupsPerMinute,
      async handle(request) {
        const context = pageContext(request);
        const parsed = loginForm.safeParse(request.body ?? {});
        const form = parsed.success ? parsed.data : { username: '', password: '', next: undefined };
        const next = localPath(form.next);
        if (form.username === '' || form.password === '') {
          return htmlResponse(context, loginPage(context, { username: form.username, next, problem: context.t('login.missing') }), 400);
        }
        const outcome = await deps.logins.login({ username: form.username, password: form.password, address: request.address, sessionId: request.sessionId });
        if (outcome.ok) return seeOther(next, [...context.langCookie, { name: sessionCookieName, value: outcome.session.id, maxAgeS: cookieMaxAgeS }]);
        const problem = outcome.refusal === 'throttled' ? context.t('login.throttled', { seconds: outcome.retryAfterS }) : context.t('login.wrong');
        const response = htmlResponse(context, loginPage(context, { username: form.username, next, problem }), outcome.refusal === 'throttled' ? 429 : 401);
        return outcome.refusal === 'throttled' ? { ...response, headers: { 'retry-after': String(outcome.retryAfterS) } } : response;
      },
    },
  ];
}

export function logoutRoute(deps: Pick<RouteDeps, 'registry'>): Route {
  return {
    method: 'POST',
    path: '/logout',
    access: everyRole,
    readsQuery: true,
    async handle({ sessionId, principal, audit }) {
      if (sessionId !== null) {
        await endSession(deps.registry, sessionId);
        audit({ action: 'session.logout', target: principal.id });
      }
      return seeOther('/login', [{ name: sessionCookieName, value: null }]);
    },
  };
}
