import type { FleetTerminal } from '../../broker/store/centralStore.js';
import { everyRole, type ProtectedRoute } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { visibleCheckpointCodes } from '../../broker/api/routes/scope.js';
import { alarmsFor } from '../../broker/api/routes/alarms.js';
import { actorNames } from '../actorName.js';
import { alarmSection } from './overviewAlarms.js';
import { formatCount, formatDateTime } from '../format.js';
import { html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, pageContext, type PageContext } from '../pageContext.js';

function terminalState(context: PageContext, terminal: FleetTerminal) {
  const { t } = context;
  if (terminal.online) return html`<span class="state-online">${t('state.online')}</span>`;
  return html`<span class="state-offline">${terminal.lastSeenAt === null ? t('state.never') : t('state.offline')}</span>`;
}

/**
 * `/`: what an operator checks first. The last 24 hours per checkpoint the visitor may see,
 * by decision, which terminals are online, and the alarms (overviewAlarms.ts). Inspectors see
 * counts only; the fleet and its alarms are for those who run gates.
 */
export function overviewRoute(deps: Pick<RouteDeps, 'store' | 'registry' | 'config' | 'now'>): ProtectedRoute {
  return {
    path: '/',
    access: everyRole,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t, lang } = context;
      const principal = request.principal;
      const visible = await visibleCheckpointCodes(deps.store, principal);
      const checkpoints = (await deps.store.listCheckpoints()).filter((c) => c.retiredAt === null && (visible === undefined || visible.includes(c.code)));
      const nowMs = deps.now();
      // One read for every checkpoint (the page used to ask checkpointStats once per checkpoint).
      const counts = new Map((await deps.store.lastDayCounts(nowMs)).map((c) => [c.code, c]));
      const rows = checkpoints.map((c) => ({ checkpoint: c, stats: counts.get(c.code) }));
      const seesFleet = principal.role !== 'inspector';
      const codes = new Set(checkpoints.map((c) => c.code));
      const terminals = seesFleet ? (await deps.store.fleet()).filter((f) => !f.removed && codes.has(f.checkpointCode)) : [];
      const names = new Map(checkpoints.map((c) => [c.code, c.name]));
      const online = terminals.filter((f) => f.online).length;
      // Alarms (issue 14 point 1): for those who run gates; inspectors read counts only.
      const alarmAnswer = seesFleet ? await alarmsFor(deps, principal) : null;
      const ackedBy = alarmAnswer?.alarms.flatMap((alarm) => (alarm.acknowledged === null ? [] : [alarm.acknowledged.by])) ?? [];
      const alarms = alarmAnswer === null ? '' : alarmSection(context, alarmAnswer, checkpoints, request.query, await actorNames(context, deps.registry, ackedBy));
      const page = layout(
        context,
        { title: t('overview.title'), path: '/' },
        html`${alarms}
<h2>${t('overview.checkpoints')}</h2>
${
  rows.length === 0
    ? html`<p class="hint">${t('overview.noCheckpoints')}</p>`
    : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('col.code')}</th><th scope="col">${t('col.name')}</th><th scope="col" class="num">${t('col.granted')}</th><th scope="col" class="num">${t('col.refused')}</th><th scope="col" class="num">${t('col.duplicate')}</th><th scope="col" class="num">${t('col.lastHour')}</th></tr></thead>
<tbody>${rows.map(
        ({ checkpoint, stats }) =>
          html`<tr data-checkpoint="${checkpoint.code}"><td class="code" data-label="${t('col.code')}">${checkpoint.code}</td><td data-label="${t('col.name')}">${checkpoint.name}</td><td class="num" data-label="${t('col.granted')}">${formatCount(lang, stats?.byDecision.granted.lastDay ?? 0)}</td><td class="num" data-label="${t('col.refused')}">${formatCount(lang, stats?.byDecision.refused.lastDay ?? 0)}</td><td class="num" data-label="${t('col.duplicate')}">${formatCount(lang, stats?.byDecision.duplicate.lastDay ?? 0)}</td><td class="num" data-label="${t('col.lastHour')}">${formatCount(lang, stats?.lastHour ?? 0)}</td></tr>`,
      )}</tbody></table></div>`
}
${
  seesFleet
    ? html`<h2>${t('overview.terminals')}</h2>
${
  terminals.length === 0
    ? html`<p class="hint">${t('overview.noTerminals')}</p>`
    : html`<p class="summary"><span class="state-online">${t('overview.online', { count: online })}</span><span class="state-offline">${t('overview.offline', { count: terminals.length - online })}</span></p>
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('col.terminal')}</th><th scope="col">${t('col.checkpoint')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('col.lastSeen')}</th></tr></thead>
<tbody>${terminals.map(
        (terminal) =>
          html`<tr data-terminal="${terminal.terminalId}"><td class="code" data-label="${t('col.terminal')}">${terminal.terminalId}</td><td data-label="${t('col.checkpoint')}">${names.get(terminal.checkpointCode) ?? terminal.checkpointCode}</td><td data-label="${t('col.state')}">${terminalState(context, terminal)}</td><td data-label="${t('col.lastSeen')}">${terminal.lastSeenAt === null ? '—' : formatDateTime(lang, terminal.lastSeenAt)}</td></tr>`,
      )}</tbody></table></div>`
}`
    : ''
}`,
      );
      return htmlResponse(context, page);
    },
  };
}
