import { z } from 'zod';
import { searchAudit } from '../../broker/access/audit.js';
import { only, type ProtectedRoute } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { actorNames } from '../actorName.js';
import { auditDetailsText } from '../auditDetails.js';
import { formatDateTime } from '../format.js';
import { html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, pageContext } from '../pageContext.js';

/**
 * Audit log (issue 14 page 11): what /api/audit answers, newest first, keyset paged on the
 * entry id so a page never shifts when new entries arrive, filtered by actor and action.
 * Actors read as people (actorName.ts); each links to the log filtered by it.
 * A malformed filter from a hand-edited URL is dropped rather than refused: a page, not an API.
 */

const pageSize = 50;
const filter = z.string().trim().max(200).optional().catch(undefined);
const auditPageQuery = z.object({
  actor: filter,
  action: filter,
  before: z.coerce.number().int().min(1).optional().catch(undefined),
});

export function auditPage(deps: Pick<RouteDeps, 'registry'>): ProtectedRoute {
  return {
    path: '/audit',
    access: only('admin'),
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t, lang } = context;
      const query = auditPageQuery.parse(Object.fromEntries(request.query));
      // A bare name is a user's: `lan` finds what `user:lan` did.
      const actor = query.actor ? (query.actor.includes(':') ? query.actor : `user:${query.actor}`) : undefined;
      const action = query.action || undefined;
      const { entries, nextBefore } = await searchAudit(deps.registry, { limit: pageSize, before: query.before, actor, action });
      const next = new URLSearchParams();
      if (actor !== undefined) next.set('actor', actor);
      if (action !== undefined) next.set('action', action);
      const first = next.toString();
      const actorName = await actorNames(context, deps.registry, entries.map((entry) => entry.actor));
      if (nextBefore !== null) next.set('before', String(nextBefore));
      const page = layout(
        context,
        { title: t('audit.title'), path: '/audit' },
        html`<form method="get" action="/audit" class="card search filters">
  <div><label for="audit-actor">${t('audit.actor')}</label>
  <input id="audit-actor" name="actor" type="text" value="${actor ?? ''}" placeholder="admin"></div>
  <div><label for="audit-action">${t('audit.action')}</label>
  <input id="audit-action" name="action" type="text" value="${action ?? ''}" placeholder="terminal.remove"></div>
  <button type="submit">${t('audit.filter')}</button>
</form>
${
  entries.length === 0
    ? html`<p class="hint">${t('audit.none')}</p>`
    : html`<div class="table-wrap"><table class="stack audit">
<thead><tr><th scope="col">${t('audit.at')}</th><th scope="col">${t('audit.actor')}</th><th scope="col">${t('audit.action')}</th><th scope="col">${t('audit.target')}</th><th scope="col">${t('audit.details')}</th><th scope="col">${t('audit.source')}</th></tr></thead>
<tbody>${entries.map(
        (entry) =>
          html`<tr data-audit="${entry.id}" data-action="${entry.action}"><td data-label="${t('audit.at')}">${formatDateTime(lang, entry.at)}</td><td data-label="${t('audit.actor')}" data-actor="${entry.actor}"><a href="/audit?${new URLSearchParams({ actor: entry.actor }).toString()}">${actorName(entry.actor)}</a></td><td class="code" data-label="${t('audit.action')}">${
            entry.action
          }</td><td class="code" data-label="${t('audit.target')}">${entry.target}</td><td class="details" data-label="${t('audit.details')}">${auditDetailsText(t, lang, entry.details)}</td><td data-label="${t('audit.source')}">${entry.source}</td></tr>`,
      )}</tbody></table></div>`
}
<p class="paging">${query.before === undefined ? '' : html`<a href="/audit${first === '' ? '' : `?${first}`}">${t('audit.newest')}</a> `}${
          nextBefore === null ? '' : html`<a href="/audit?${next.toString()}">${t('audit.older')}</a>`
        }</p>`,
      );
      return htmlResponse(context, page);
    },
  };
}
