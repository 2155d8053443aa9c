import { z } from 'zod';
import { maxAlarmNoteLength } from '../../broker/alarms/alarmAcks.js';
import { HttpError } from '../../broker/api/http.js';
import type { ProtectedRoute } from '../../broker/api/route.js';
import { acknowledgeFor, alarmNoteSchema, alarmRoles, type AlarmsAnswer, type AlarmView } from '../../broker/api/routes/alarms.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import type { Checkpoint } from '../../broker/store/centralStore.js';
import { formatCount, formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import type { MessageKey } from '../i18n/vi.js';
import { csrfField, pageContext, seeOther, type PageContext } from '../pageContext.js';

/**
 * The overview's alarms (issue 14 point 1): what /api/alarms answers the visitor, most severe
 * first, each with what it is, where, since when, and either who acknowledged it (when, with
 * their note) or a form to acknowledge it. The form posts to `/alarms/{id}/acknowledge`,
 * which answers with a redirect back to the alarm, carrying a problem in the query when the
 * note was missing or the alarm changed meanwhile (it cleared, or someone was first).
 */

/** Why an acknowledgement was not taken, as `?problem=` carries it back. */
const ackProblems = ['note', 'gone', 'taken'] as const;
type AckProblem = (typeof ackProblems)[number];

/** An element id from an alarm id (`terminal-offline:gate-a:17…`): letters, digits and dashes only. */
const anchorOf = (alarmId: string): string => `alarm-${alarmId.replace(/[^A-Za-z0-9-]/g, '-')}`;

function where(context: PageContext, alarm: AlarmView, names: ReadonlyMap<string, string>): Html {
  const { t } = context;
  const { terminalId, checkpointCode, scope } = alarm.subject;
  const parts: Html[] = [];
  if (terminalId !== undefined) parts.push(html`${t('alarms.terminal')} <span class="code">${terminalId}</span>`);
  if (checkpointCode !== undefined) parts.push(html`${names.get(checkpointCode) ?? ''} <span class="code">${checkpointCode}</span>`);
  if (scope !== undefined) parts.push(html`${t('alarms.list')} <span class="code">${scope}</span>`);
  return html`${parts.map((part, i) => html`${i === 0 ? '' : ' · '}${part}`)}`;
}

function detail(context: PageContext, alarm: AlarmView): string {
  const { t, lang } = context;
  switch (alarm.kind) {
    case 'terminal-offline':
      return t('alarms.detail.terminal-offline', { at: formatDateTime(lang, alarm.details.lastSeenAt) });
    case 'storage-failing':
      return t('alarms.detail.storage-failing', { error: alarm.details.error ?? '?', failures: formatCount(lang, alarm.details.failures) });
    case 'sequence-gap':
      return t('alarms.detail.sequence-gap', { count: formatCount(lang, alarm.details.missing), ranges: alarm.details.ranges.map((r) => (r.fromSeq === r.toSeq ? `${r.fromSeq}` : `${r.fromSeq}–${r.toSeq}`)).join(', ') });
    case 'list-expiring':
      return t(alarm.details.expired ? 'alarms.detail.list-expired' : 'alarms.detail.list-expiring', { version: alarm.details.version ?? '?', at: formatDateTime(lang, alarm.details.expiresAt) });
    case 'list-lagging':
      return t(alarm.details.running === null ? 'alarms.detail.list-missing' : 'alarms.detail.list-lagging', { running: alarm.details.running ?? '', latest: alarm.details.latest });
    case 'clock-untrusted':
      return t('alarms.detail.clock-untrusted');
  }
}

function problemText(context: PageContext, problem: AckProblem): string {
  return context.t(`alarms.problem.${problem}` as MessageKey, { max: maxAlarmNoteLength });
}

function alarmCard(context: PageContext, alarm: AlarmView, names: ReadonlyMap<string, string>, actorName: (actor: string) => string, problem: AckProblem | undefined): Html {
  const { t, lang } = context;
  const anchor = anchorOf(alarm.id);
  const ack = alarm.acknowledged;
  return html`<article class="card alarm ${alarm.severity}" id="${anchor}" data-alarm="${alarm.id}" data-kind="${alarm.kind}" data-state="${ack === null ? 'new' : 'acknowledged'}" aria-labelledby="${anchor}-title">
<h3 id="${anchor}-title"><span class="severity">${t(`alarms.severity.${alarm.severity}`)}</span> ${t(`alarms.kind.${alarm.kind}`)}${ack === null ? html` <span class="badge-new">${t('alarms.new')}</span>` : ''}</h3>
<dl class="alarm-facts">
<div><dt>${t('alarms.where')}</dt><dd data-fact="where">${where(context, alarm, names)}</dd></div>
<div><dt>${t('alarms.since')}</dt><dd data-fact="since">${alarm.since === null ? t('alarms.sinceUnknown') : formatDateTime(lang, alarm.since)}</dd></div>
<div class="wide"><dt>${t('alarms.what')}</dt><dd data-fact="detail">${detail(context, alarm)}</dd></div>
</dl>
${
  ack !== null
    ? html`<p class="acknowledged" data-fact="acknowledged">${t('alarms.acknowledgedBy', { by: actorName(ack.by), at: formatDateTime(lang, ack.at) })} <q>${ack.note}</q></p>`
    : html`<form method="post" action="/alarms/${encodeURIComponent(alarm.id)}/acknowledge" class="ack">
${csrfField(context)}
<label for="${anchor}-note">${t('alarms.note')}</label>
<textarea id="${anchor}-note" name="note" rows="2" required maxlength="${maxAlarmNoteLength}"${problem === undefined ? '' : html` aria-invalid="true" aria-describedby="${anchor}-problem"`}></textarea>
${problem === undefined ? '' : html`<p class="problem" id="${anchor}-problem" role="alert">${problemText(context, problem)}</p>`}
<button type="submit">${t('alarms.acknowledge')}</button>
</form>`
}
</article>`;
}

/**
 * The section for the overview; empty for a visitor who sees no alarms at all (inspectors).
 * `actorName` says who acknowledged an alarm as a person reads it (actorName.ts).
 */
export function alarmSection(context: PageContext, answer: AlarmsAnswer, checkpoints: readonly Checkpoint[], query: URLSearchParams, actorName: (actor: string) => string): Html {
  const { t } = context;
  const names = new Map(checkpoints.map((c) => [c.code, c.name]));
  const problemParam = query.get('problem');
  const problem = (ackProblems as readonly string[]).includes(problemParam ?? '') ? (problemParam as AckProblem) : undefined;
  const problemAlarm = query.get('alarm');
  const done = query.get('acknowledged');
  // A problem for an alarm no longer shown (it cleared, or it was acknowledged by someone else) is said at the top.
  const orphan = problem !== undefined && !answer.alarms.some((alarm) => alarm.id === problemAlarm && alarm.acknowledged === null);
  return html`<section class="alarms" aria-labelledby="alarms-title">
<h2 id="alarms-title">${t('alarms.title')}</h2>
${done === null ? '' : html`<p class="notice" role="status">${t('alarms.acknowledgedNow')}</p>`}
${orphan ? html`<p class="error" role="alert">${problemText(context, problem!)}</p>` : ''}
${
  answer.alarms.length === 0
    ? html`<p class="hint" data-alarms="none">${t('alarms.none')}</p>`
    : html`<p class="summary" data-alarms="counts"><span class="state-offline">${t('alarms.countNew', { count: formatCount(context.lang, answer.counts.new) })}</span><span>${t('alarms.countAcknowledged', { count: formatCount(context.lang, answer.counts.acknowledged) })}</span></p>
<div class="alarm-list">${answer.alarms.map((alarm) => alarmCard(context, alarm, names, actorName, alarm.id === problemAlarm ? problem : undefined))}</div>`
}
</section>`;
}

const ackForm = z.object({ note: z.unknown() });

/** `POST /alarms/{id}/acknowledge`: the console's form, through the API's own acknowledgeFor. */
export function acknowledgeAlarmRoute(deps: Pick<RouteDeps, 'store' | 'registry' | 'config' | 'now' | 'logger'>): ProtectedRoute {
  return {
    method: 'POST',
    path: '/alarms/{id}/acknowledge',
    access: alarmRoles,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const alarmId = request.params.id ?? '';
      const back = (params: Record<string, string>) => seeOther(`/?${new URLSearchParams(params).toString()}#${anchorOf(alarmId)}`, context.langCookie);
      const form = ackForm.safeParse(request.body);
      const note = alarmNoteSchema.safeParse(form.success ? form.data.note : undefined);
      if (!note.success) return back({ alarm: alarmId, problem: 'note' });
      try {
        await acknowledgeFor(deps, request, alarmId, note.data);
      } catch (err) {
        if (err instanceof HttpError && (err.status === 404 || err.status === 409)) return back({ alarm: alarmId, problem: err.status === 404 ? 'gone' : 'taken' });
        throw err;
      }
      return back({ acknowledged: alarmId });
    },
  };
}
