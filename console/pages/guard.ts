import { only, type ProtectedRoute } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { visibleCheckpointCodes } from '../../broker/api/routes/scope.js';
import { html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, pageContext } from '../pageContext.js';

/**
 * `/guard` (issue 14 page 9): for a guard at a manual-confirm gate, on a phone or a tablet.
 * The page is a frame; client/guard.ts keeps the waiting scans current from GET /api/pending
 * twice a second and answers through the API's confirm, reject and remote open, so the
 * screen shows and does exactly what the API allows this person, no more. The page's words
 * travel in data attributes: no inline script.
 */
export function guardRoute(deps: Pick<RouteDeps, 'store'>): ProtectedRoute {
  return {
    path: '/guard',
    access: only('admin', 'manager', 'guard'),
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t } = context;
      const visible = await visibleCheckpointCodes(deps.store, request.principal);
      const checkpoints = (await deps.store.listCheckpoints()).filter((c) => c.retiredAt === null && (visible === undefined || visible.includes(c.code)));
      const words = {
        confirm: t('guard.confirm'),
        reject: t('guard.reject'),
        waiting: t('guard.waiting'),
        seconds: t('guard.seconds'),
        unknownPerson: t('guard.unknownPerson'),
        'photo-alt': t('guard.photoAlt'),
        otherUnit: t('guard.otherUnit'),
        offline: t('guard.offline'),
        answered: t('guard.answered'),
        late: t('guard.late'),
        failed: t('guard.failed'),
        opened: t('guard.opened'),
        // Fuller than the members page's words: beside Confirm / Reject a short status could be read as a verdict.
        'status-allow': t('guard.status.allow'),
        'status-deny': t('guard.status.deny'),
        'status-check': t('guard.status.check'),
        lane: t('guard.lane'),
        'direction-in': t('guard.direction.in'),
        'direction-out': t('guard.direction.out'),
      };
      const page = layout(
        context,
        { title: t('guard.title'), path: '/guard', scripts: ['guard'] },
        html`<div id="guard" data-csrf="${context.csrfToken ?? ''}" data-checkpoints="${JSON.stringify(Object.fromEntries(checkpoints.map((c) => [c.code, c.name])))}" ${Object.entries(words).map(([key, text]) => html`data-t-${key}="${text}" `)}>
<p class="hint" id="guard-state" role="status" aria-live="polite">${t('guard.loading')}</p>
<ul class="pending" id="pending" aria-label="${t('guard.title')}"></ul>
</div>
${
  checkpoints.length === 0
    ? ''
    : html`<form class="card narrow" id="remote-open" data-remote-open>
<h2>${t('guard.openTitle')}</h2>
<label for="open-checkpoint">${t('col.checkpoint')}</label>
<select id="open-checkpoint" name="checkpoint">${checkpoints.map((c) => html`<option value="${c.code}">${c.name} (${c.code})</option>`)}</select>
<label for="open-reason">${t('guard.openReason')}</label>
<input id="open-reason" name="reason" type="text" required maxlength="200" autocomplete="off">
<button type="submit">${t('guard.open')}</button>
<p class="problem" id="open-result" role="status"></p>
</form>`
}`,
      );
      return htmlResponse(context, page);
    },
  };
}
