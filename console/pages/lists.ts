import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { listScopesOf, publishScopeFor } from '../../broker/api/routes/lists.js';
import { visibleFleet } from '../../broker/api/routes/terminals.js';
import { expiresWithin, lagsBehind, runningLists, type RunningList } from '../../broker/lists/listHealth.js';
import { publishedVersions, type PublishedVersion } from '../../broker/lists/listVersions.js';
import { scopesWithMembers } from '../../broker/registry/memberQueries.js';
import { formatAge, formatCount, formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';

/**
 * Lists (issue 14 page 7): per scope the versions the central published (what /api/lists
 * answers, a manager's unit's scopes only), which terminals run which version as their
 * telemetry last said, and "publish now" through the API's own publish. A warning when a
 * terminal runs an older version than the newest published one, or when a list expires
 * within the alarms' window (a day by default, broker/lists/listHealth.ts): a terminal past
 * its list's expiry refuses everyone on it.
 */

const managers = only('admin', 'manager');

function warnings(context: PageContext, latest: PublishedVersion | undefined, running: readonly RunningList[], nowMs: number, windowHours: number): Html[] {
  const { t, lang } = context;
  const windowMs = windowHours * 3600 * 1000;
  const out: Html[] = [];
  if (latest !== undefined) {
    const lagging = running.filter((r) => lagsBehind(r, latest));
    if (lagging.length > 0) out.push(html`<p class="error" data-warning="lag">${t('lists.lagging', { count: lagging.length, version: latest.version, terminals: lagging.map((r) => r.terminal.terminalId).join(', ') })}</p>`);
    if (expiresWithin(latest.expiresAt, nowMs, windowMs)) out.push(html`<p class="error" data-warning="expiry">${t('lists.expiring', { version: latest.version, at: formatDateTime(lang, latest.expiresAt), hours: formatCount(lang, windowHours) })}</p>`);
  }
  const expiringOnTerminals = running.filter((r) => r.expiresAt !== null && expiresWithin(r.expiresAt, nowMs, windowMs));
  if (expiringOnTerminals.length > 0) out.push(html`<p class="error" data-warning="terminal-expiry">${t('lists.terminalExpiring', { terminals: expiringOnTerminals.map((r) => r.terminal.terminalId).join(', '), hours: formatCount(lang, windowHours) })}</p>`);
  return out;
}

function scopeCard(context: PageContext, scope: string, versions: readonly PublishedVersion[], running: readonly RunningList[], nowMs: number, windowHours: number, publishable: boolean): Html {
  const { t, lang } = context;
  const latest = versions[0];
  const shown = versions.slice(0, 10);
  return html`<section class="card scope" data-scope="${scope}" aria-labelledby="scope-${scope}">
<h2 id="scope-${scope}">${t('lists.scope', { scope })}</h2>
${warnings(context, latest, running, nowMs, windowHours)}
${
  shown.length === 0
    ? html`<p class="hint">${t('lists.notPublished')}</p>`
    : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('lists.version')}</th><th scope="col">${t('lists.publishedAt')}</th><th scope="col">${t('lists.expiresAt')}</th><th scope="col" class="num">${t('lists.entries')}</th><th scope="col" class="num">${t('lists.delta')}</th></tr></thead>
<tbody>${shown.map(
        (v) =>
          html`<tr data-version="${v.version}"><td class="code" data-label="${t('lists.version')}">v${v.version}</td><td data-label="${t('lists.publishedAt')}">${formatDateTime(lang, v.publishedAt)}</td><td data-label="${t('lists.expiresAt')}">${formatDateTime(
            lang,
            v.expiresAt,
          )}</td><td class="num" data-label="${t('lists.entries')}">${formatCount(lang, v.entryCount)}</td><td class="num" data-label="${t('lists.delta')}">${
            v.deltaCount === null ? '—' : formatCount(lang, v.deltaCount)
          }</td></tr>`,
      )}</tbody></table></div>`
}
<h3>${t('lists.terminals')}</h3>
${
  running.length === 0
    ? html`<p class="hint">${t('lists.noTerminals')}</p>`
    : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('col.terminal')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('lists.version')}</th><th scope="col">${t('lists.age')}</th></tr></thead>
<tbody>${running.map(
        (r) =>
          html`<tr data-terminal="${r.terminal.terminalId}"><td class="code" data-label="${t('col.terminal')}">${r.terminal.terminalId}</td><td data-label="${t('col.state')}">${r.terminal.online ? html`<span class="state-online">${t('state.online')}</span>` : html`<span class="state-offline">${t('state.offline')}</span>`}</td><td class="code" data-label="${t('lists.version')}">${
            r.version === null ? t('fleet.noList') : `v${r.version}`
          }</td><td data-label="${t('lists.age')}">${r.ageS === null ? '—' : formatAge(lang, r.ageS)}</td></tr>`,
      )}</tbody></table></div>`
}
${
  publishable
    ? html`<form method="post" action="/lists/${scope}/publish">
${csrfField(context)}
<button type="submit">${t('lists.publish')}</button>
</form>`
    : html`<p class="hint">${t('lists.notRegistry')}</p>`
}
</section>`;
}

export function listPages(deps: Pick<RouteDeps, 'registry' | 'store' | 'config' | 'now'>): Route[] {
  const show: ProtectedRoute = {
    path: '/lists',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t } = context;
      const allowed = await listScopesOf(deps.registry, request.principal);
      const published = await publishedVersions(deps.registry, allowed);
      const terminals = (await visibleFleet(deps.store, request.principal)).filter((terminal) => !terminal.removed);
      // Scopes terminals run but this registry neither published nor has members in (a hand-built list) are shown without
      // "publish now": publishing would replace that list with an empty one and refuse everyone on it.
      const reported = terminals.flatMap((terminal) => (terminal.telemetry?.lists ?? []).map((list) => list.scope));
      const registered = allowed ?? (await scopesWithMembers(deps.registry));
      const scopes = [...new Set([...published.map((s) => s.scope), ...reported.filter((scope) => allowed === undefined || allowed.includes(scope)), ...registered])].sort();
      const publishable = new Set([...published.map((s) => s.scope), ...registered]);
      const versionsOf = new Map(published.map((s) => [s.scope, s.versions]));
      const nowMs = deps.now();
      const done = request.query.get('published');
      const page = layout(
        context,
        { title: t('lists.title'), path: '/lists' },
        html`${done === null ? '' : html`<p class="notice" role="status">${t('lists.publishedNow', { version: done })}</p>`}
${scopes.length === 0 ? html`<p class="hint">${t('lists.none')}</p>` : scopes.map((scope) => scopeCard(context, scope, versionsOf.get(scope) ?? [], runningLists(terminals, scope), nowMs, deps.config.alarms.listExpiryWarningHours, publishable.has(scope)))}`,
      );
      return htmlResponse(context, page);
    },
  };
  const publish: ProtectedRoute = {
    method: 'POST',
    path: '/lists/{scope}/publish',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const result = await publishScopeFor(deps, request, request.params.scope);
      return seeOther(`/lists?published=${encodeURIComponent(`${result.scope} v${result.version}`)}#scope-${result.scope}`, context.langCookie);
    },
  };
  return [show, publish];
}
