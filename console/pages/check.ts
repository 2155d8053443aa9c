import { checkpointCodeProblem } from '../../protocol/checkpointCodeDigits.js';
import type { PublicRoute } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, pageContext } from '../pageContext.js';
import { fourCounts } from './stats.js';

/**
 * `/check?code=…`, open to anyone (an inspector at the gate with a phone): a checkpoint's
 * name and its four counts, nothing else, as the public API answers. The code is checked in
 * the browser before sending (client/check.ts) and again here, with the same function.
 */
export function checkRoute(deps: Pick<RouteDeps, 'store' | 'now' | 'config'>): PublicRoute {
  return {
    path: '/check',
    access: 'public',
    readsQuery: true,
    rateLimitPerMinute: deps.config.http.publicLookupsPerMinute,
    async handle(request) {
      const context = pageContext(request);
      const { t } = context;
      const typed = (request.query.get('code') ?? '').trim().slice(0, 64);
      const problem = typed === '' ? null : checkpointCodeProblem(typed);
      const stats = typed !== '' && problem === null ? await deps.store.checkpointStats(typed, deps.now()) : null;
      const unknown = typed !== '' && problem === null && stats === null;
      const message = problem !== null ? t(`check.problem.${problem}`) : unknown ? t('check.notFound', { code: typed }) : '';
      const page = layout(
        context,
        { title: t('check.title'), path: '/check', scripts: ['check'] },
        html`<div class="card narrow">
<p class="hint">${t('check.intro')}</p>
<form method="get" action="/check" novalidate data-checkpoint-lookup
  data-problem-non-digit="${t('check.problem.non-digit')}" data-problem-length="${t('check.problem.length')}" data-problem-check-digit="${t('check.problem.check-digit')}">
  <label for="code">${t('check.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="off" maxlength="20" class="code big-code" value="${typed}" aria-describedby="code-problem"${message === '' ? '' : html` aria-invalid="true"`}>
  <p id="code-problem" class="problem" data-code-problem role="status">${message}</p>
  <button type="submit">${t('check.submit')}</button>
</form>
</div>
${
  stats === null
    ? ''
    : html`<section aria-labelledby="result"><h2 id="result">${t('check.scans', { name: stats.name })}</h2>
<p class="code">${stats.code}</p>
${fourCounts(context, stats, stats.name)}</section>`
}`,
      );
      return htmlResponse(context, page, problem !== null ? 400 : unknown ? 404 : 200);
    },
  };
}
