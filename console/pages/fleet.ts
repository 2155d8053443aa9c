import { auditFacts } from '../../broker/access/auditFacts.js';
import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { noStore, recordFact } from '../../broker/api/routes/auditFact.js';
import { visibleFleet } from '../../broker/api/routes/terminals.js';
import { rewriteMosquittoFiles } from '../../broker/mosquitto/followChanges.js';
import { removeTerminal, rotateTerminalSecret } from '../../broker/registry/terminalLifecycle.js';
import type { FleetTerminal } from '../../broker/store/centralStore.js';
import { missingSeqCount } from '../../broker/store/sequenceGaps.js';
import { formatAge, formatCount, formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';

/**
 * Fleet (issue 14 page 8): every terminal the visitor may see (the set /api/terminals
 * answers: a manager's unit, a guard's own checkpoints, read-only), with what its last
 * telemetry said. Admins remove a terminal or rotate its secret through the CLI's own
 * functions (broker/registry/terminalLifecycle.ts), each behind a confirmation page; the new
 * secret is shown once, never stored, and the page carrying it is not cached.
 */

const admins = only('admin');

function state(context: PageContext, terminal: FleetTerminal): Html {
  const { t } = context;
  if (terminal.online) return html`<span class="state-online">${t('state.online')}</span>`;
  return html`<span class="state-offline">${terminal.lastSeenAt === null ? t('state.never') : t('state.offline')}</span>`;
}

function lists(context: PageContext, terminal: FleetTerminal): Html {
  const { t, lang } = context;
  const reported = terminal.telemetry?.lists ?? [];
  if (reported.length === 0) return html`—`;
  return html`<ul class="plain">${reported.map(
    (list) =>
      html`<li data-list="${list.scope}">${list.scope}: ${list.version === null ? t('fleet.noList') : html`<span class="code">v${list.version}</span>`}${
        list.ageS === null ? '' : html` · ${formatAge(lang, list.ageS)}`
      }${list.stale ? html` <span class="status-deny">${t('fleet.stale')}</span>` : ''}</li>`,
  )}</ul>`;
}

function storage(context: PageContext, terminal: FleetTerminal): Html {
  const { t } = context;
  const reported = terminal.telemetry?.storage;
  if (reported === undefined) return html`—`;
  return reported.writable ? html`<span class="status-allow">${t('fleet.storageOk')}</span>` : html`<span class="status-deny">${t('fleet.storageFailing', { error: reported.error ?? '?', failures: reported.failures })}</span>`;
}

function scanners(context: PageContext, terminal: FleetTerminal): Html {
  const reported = terminal.telemetry?.scanners ?? [];
  if (reported.length === 0) return html`—`;
  return html`<ul class="plain">${reported.map(
    (scanner) => html`<li>${scanner.lane}: ${scanner.connected ? html`<span class="status-allow">${context.t('fleet.connected')}</span>` : html`<span class="status-deny">${context.t('fleet.disconnected')}</span>`}</li>`,
  )}</ul>`;
}

function clock(context: PageContext, terminal: FleetTerminal): Html {
  const { t } = context;
  const reported = terminal.telemetry;
  if (reported === null) return html`—`;
  if (!reported.clockTrusted) return html`<span class="status-deny">${t('fleet.clockUntrusted')}</span>`;
  return reported.clockSynced === false ? html`<span class="status-check">${t('fleet.clockUnsynced')}</span>` : html`<span class="status-allow">${t('fleet.clockOk')}</span>`;
}

function gaps(context: PageContext, terminal: FleetTerminal): Html {
  if (terminal.gaps.length === 0 && terminal.lastSeq === null) return html`—`;
  if (terminal.gaps.length === 0) return html`<span class="status-allow">${context.t('fleet.noGaps')}</span>`;
  const missing = missingSeqCount(terminal.gaps);
  return html`<span class="status-deny" title="${terminal.gaps.map((gap) => `${gap.fromSeq}–${gap.toSeq}`).join(', ')}">${context.t('fleet.gaps', { count: formatCount(context.lang, missing) })}</span>`;
}

function fact(label: string, name: string, value: Html | string): Html {
  return html`<div><dt>${label}</dt><dd data-fact="${name}">${value}</dd></div>`;
}

/** One card per terminal rather than a table row: ten facts fit a phone's width only stacked. */
function terminalCard(context: PageContext, terminal: FleetTerminal, names: ReadonlyMap<string, string>, canChange: boolean): Html {
  const { t, lang } = context;
  return html`<article class="card terminal" data-terminal="${terminal.terminalId}" data-online="${String(terminal.online)}" aria-labelledby="terminal-${terminal.terminalId}">
<h2 id="terminal-${terminal.terminalId}"><span class="code">${terminal.terminalId}</span> ${state(context, terminal)}</h2>
<dl class="terminal-facts">
${fact(
  t('col.checkpoint'),
  'checkpoint',
  html`${names.get(terminal.checkpointCode) ?? ''} <span class="code">${terminal.checkpointCode}</span>${terminal.checkpointRetired ? html` <span class="status-deny">${t('fleet.retired')}</span>` : ''}`,
)}
${fact(t('col.lastSeen'), 'lastSeen', terminal.lastSeenAt === null ? '—' : formatDateTime(lang, terminal.lastSeenAt))}
${fact(t('fleet.lists'), 'lists', lists(context, terminal))}
${fact(t('fleet.outbox'), 'outbox', terminal.telemetry === null ? '—' : formatCount(lang, terminal.telemetry.outboxDepth))}
${fact(t('fleet.storage'), 'storage', storage(context, terminal))}
${fact(t('fleet.scanners'), 'scanners', scanners(context, terminal))}
${fact(t('fleet.clock'), 'clock', clock(context, terminal))}
${fact(t('fleet.seq'), 'seq', gaps(context, terminal))}
</dl>
${
  canChange
    ? html`<p class="actions"><a class="button" href="/fleet/${terminal.terminalId}/rotate-secret">${t('fleet.rotate')}</a> <a class="button danger" href="/fleet/${terminal.terminalId}/remove">${t('fleet.remove')}</a></p>`
    : ''
}
</article>`;
}

type Change = 'remove' | 'rotate-secret';

/** The step between the button and the change: the admin reads what will happen and confirms. */
function confirmPage(context: PageContext, terminalId: string, change: Change): Html {
  const { t } = context;
  const [title, explain, button] =
    change === 'remove' ? [t('fleet.removeTitle', { terminal: terminalId }), t('fleet.removeExplain'), t('fleet.remove')] : [t('fleet.rotateTitle', { terminal: terminalId }), t('fleet.rotateExplain'), t('fleet.rotate')];
  return layout(
    context,
    { title, path: '/fleet' },
    html`<form method="post" action="/fleet/${terminalId}/${change}" class="card narrow${change === 'remove' ? ' danger' : ''}">
${csrfField(context)}
<p>${explain}</p>
<button type="submit"${change === 'remove' ? html` class="danger"` : ''}>${button}</button>
<p><a href="/fleet">${t('fleet.cancel')}</a></p>
</form>`,
  );
}

export function fleetPages(deps: Pick<RouteDeps, 'config' | 'store' | 'logger' | 'now'>): Route[] {
  const list: ProtectedRoute = {
    path: '/fleet',
    access: only('admin', 'manager', 'guard'),
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t } = context;
      const terminals = (await visibleFleet(deps.store, request.principal)).filter((terminal) => !terminal.removed);
      const names = new Map((await deps.store.listCheckpoints()).map((c) => [c.code, c.name]));
      const online = terminals.filter((terminal) => terminal.online).length;
      const done = request.query.get('removed');
      const page = layout(
        context,
        { title: t('fleet.title'), path: '/fleet' },
        html`${done === null ? '' : html`<p class="notice" role="status">${t('fleet.removed', { terminal: done })}</p>`}
${
  terminals.length === 0
    ? html`<p class="hint">${t('overview.noTerminals')}</p>`
    : html`<p class="summary"><span class="state-online">${t('overview.online', { count: online })}</span><span class="state-offline">${t('overview.offline', { count: terminals.length - online })}</span></p>
<div class="terminals">${terminals.map((terminal) => terminalCard(context, terminal, names, request.principal.role === 'admin'))}</div>`
}`,
      );
      return htmlResponse(context, page);
    },
  };
  const confirmations: ProtectedRoute[] = (['remove', 'rotate-secret'] as const).map((change) => ({
    path: `/fleet/{id}/${change}`,
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      return htmlResponse(context, confirmPage(context, request.params.id ?? '', change));
    },
  }));
  const remove: ProtectedRoute = {
    method: 'POST',
    path: '/fleet/{id}/remove',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const terminalId = await removeTerminal(deps.store, request.params.id ?? '');
      recordFact(request, deps.logger, auditFacts.terminalRemoved(terminalId));
      await rewriteMosquittoFiles(deps);
      return seeOther(`/fleet?removed=${encodeURIComponent(terminalId)}`, context.langCookie);
    },
  };
  const rotate: ProtectedRoute = {
    method: 'POST',
    path: '/fleet/{id}/rotate-secret',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t } = context;
      // The Mosquitto hash can only be made while the secret exists (docs/mosquitto.md).
      const rotated = await rotateTerminalSecret(deps.store, request.params.id ?? '', { dataDir: deps.config.dataDir });
      recordFact(request, deps.logger, auditFacts.secretRotated(rotated.terminalId, false));
      await rewriteMosquittoFiles(deps);
      // Answered once, as `terminals rotate-secret` prints it: a reload posts nothing and shows nothing.
      const page = layout(
        context,
        { title: t('fleet.rotatedTitle', { terminal: rotated.terminalId }), path: '/fleet' },
        html`<div class="card narrow">
<p>${t('fleet.rotatedExplain')}</p>
<p><label for="new-secret">${t('fleet.newSecret')}</label>
<input id="new-secret" class="code" type="text" readonly value="${rotated.secret}" autocomplete="off"></p>
<p class="hint">${t('fleet.shownOnce')}</p>
<p><a href="/fleet">${t('fleet.back')}</a></p>
</div>`,
      );
      const response = htmlResponse(context, page);
      return { ...response, headers: noStore };
    },
  };
  return [list, ...confirmations, remove, rotate];
}
