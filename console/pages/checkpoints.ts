import { z } from 'zod';
import { auditFacts } from '../../broker/access/auditFacts.js';
import { managesCheckpoint, seesCheckpoint, type Principal } from '../../broker/access/roles.js';
import { everyRole, only, type AuthorizedRequest, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import { recordFact } from '../../broker/api/routes/auditFact.js';
import { checkUnitFor, managedCheckpoint } from '../../broker/api/routes/checkpointChanges.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { checkpointInScope } from '../../broker/api/routes/scope.js';
import { CheckpointFieldsError } from '../../broker/registry/checkpointFields.js';
import { checkpointDirections, confirmModes, createCheckpoint, retireCheckpoint, updateCheckpoint, type NewCheckpoint } from '../../broker/registry/checkpoints.js';
import { defaultEnrollTtlS, makeEnrollmentQrImage, maxEnrollTtlS } from '../../broker/enrollment/enrollmentQr.js';
import { brokerUrlSchema } from '../../protocol/brokerUrl.js';
import { listScopeSchema } from '../../protocol/lists/index.js';
import { noStore } from '../../broker/api/routes/auditFact.js';
import type { CentralConfig } from '../../broker/config.js';
import type { Checkpoint, CheckpointStats } from '../../broker/store/centralStore.js';
import { bucketMs, bucketStart } from '../../broker/store/time.js';
import { decisions } from '../../protocol/event.js';
import { checkpointCodeSchema } from '../../protocol/checkpointCode.js';
import { badRequest } from '../../broker/api/http.js';
import { zodReason } from '../../broker/api/query.js';
import { barChart, type Bar } from '../barChart.js';
import { formatCount, formatDateTime, formatDay, formatHour } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';
import { fourCounts } from './stats.js';

/**
 * Checkpoints (issue 14 pages 2 and 3): the list, create, edit and retire for admins and a
 * unit's manager, through the same registry functions, scope checks and audit facts as
 * /api/checkpoints (broker/api/routes/checkpointChanges.ts); a read-only list for the other
 * roles, as the API shows them. A checkpoint's page carries the inspector's four counts, its
 * scans over the last day and month as server-drawn charts, its printable sign and, for an
 * admin, a technician's enrollment QR. As on the members page, a form sent back with its
 * problems marked is a 200 page, not an error status.
 */

const managers = only('admin', 'manager');
const windows = ['lastHour', 'lastDay', 'lastWeek', 'lastMonth'] as const;
type Form = { name?: string; direction?: string; confirm?: string; unit?: string };

const textField = z.string().max(1000).optional();
const checkpointForm = z.object({ name: textField, direction: textField, confirm: textField, unit: textField });
const parseForm = (body: unknown): Form => {
  const parsed = checkpointForm.safeParse(body ?? {});
  return parsed.success ? parsed.data : {};
};

function choice<T extends string>(context: PageContext, id: string, name: string, values: readonly T[], selected: string | undefined, label: (value: T) => string): Html {
  return html`<select id="${id}" name="${name}">${values.map((value) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${label(value)}</option>`)}</select>`;
}

/** The fields a form shows, create and edit alike; `problems` are the registry's refusals, by field. */
function fields(context: PageContext, principal: Principal, prefix: string, form: Form, problems: ReadonlyMap<string, string>): Html {
  const { t } = context;
  const problem = (name: string) => {
    const text = problems.get(name);
    return text === undefined ? '' : html`<p class="problem" id="${prefix}-${name}-problem">${text}</p>`;
  };
  const invalid = (name: string) => (problems.has(name) ? html` aria-invalid="true" aria-describedby="${prefix}-${name}-problem"` : '');
  return html`<div class="field"><label for="${prefix}-name">${t('checkpoint.name')}</label>
<input id="${prefix}-name" name="name" type="text" required maxlength="200" value="${form.name ?? ''}" autocomplete="off"${invalid('name')}>${problem('name')}</div>
<div class="field"><label for="${prefix}-direction">${t('checkpoint.direction')}</label>
${choice(context, `${prefix}-direction`, 'direction', checkpointDirections, form.direction ?? 'both', (d) => t(`checkpoint.direction.${d}`))}${problem('direction')}</div>
<div class="field"><label for="${prefix}-confirm">${t('checkpoint.confirm')}</label>
${choice(context, `${prefix}-confirm`, 'confirm', confirmModes, form.confirm ?? 'auto', (c) => t(`checkpoint.confirm.${c}`))}${problem('confirm')}</div>
${
  principal.role === 'admin'
    ? html`<div class="field"><label for="${prefix}-unit">${t('checkpoint.unit')}</label>
<input id="${prefix}-unit" name="unit" type="text" maxlength="100" value="${form.unit ?? ''}" autocomplete="off"${invalid('unit')}>${problem('unit')}</div>`
    : html`<p class="hint">${t('checkpoints.unitIs', { unit: principal.unit ?? '' })}</p>`
}`;
}

/** checkCheckpointFields' problems, by field, in the visitor's words. */
function refusals(context: PageContext, err: unknown): Map<string, string> {
  if (!(err instanceof CheckpointFieldsError)) throw err;
  return new Map(err.problems.map((p) => [p.field, context.t(p.field === 'name' ? 'checkpoints.problem.name' : p.field === 'unit' ? 'checkpoints.problem.unit' : 'checkpoints.problem.other')]));
}

function listPage(context: PageContext, principal: Principal, checkpoints: readonly Checkpoint[], form: Form, problems: ReadonlyMap<string, string>): Html {
  const { t } = context;
  const manages = principal.role === 'admin' || principal.role === 'manager';
  return layout(
    context,
    { title: t('checkpoints.title'), path: '/checkpoints' },
    html`${
      manages
        ? html`<details class="card"${problems.size > 0 ? html` open` : ''}><summary>${t('checkpoints.create')}</summary>
<form method="post" action="/checkpoints" class="narrow">
${csrfField(context)}
${fields(context, principal, 'new', form, problems)}
<button type="submit">${t('checkpoints.createSubmit')}</button>
</form></details>`
        : ''
    }
${
  checkpoints.length === 0
    ? html`<p class="hint" data-empty>${t('checkpoints.none')}</p>`
    : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('checkpoint.name')}</th><th scope="col">${t('checkpoint.code')}</th><th scope="col">${t('checkpoint.direction')}</th><th scope="col">${t('checkpoint.confirm')}</th><th scope="col">${t('checkpoint.unit')}</th><th scope="col">${t('checkpoint.state')}</th></tr></thead>
<tbody>${checkpoints.map(
        (c) => html`<tr data-checkpoint="${c.code}"${c.retiredAt === null ? '' : html` class="retired"`}><td><a href="/checkpoints/${c.code}">${c.name}</a></td><td class="code big-code">${c.code}</td><td data-label="${t('checkpoint.direction')}">${t(`checkpoint.direction.${c.direction}`)}</td><td data-label="${t('checkpoint.confirm')}">${t(`checkpoint.confirm.${c.confirm}`)}</td><td data-label="${t('checkpoint.unit')}">${c.unit === '' ? '—' : c.unit}</td><td data-label="${t('checkpoint.state')}">${
          c.retiredAt === null ? t('checkpoint.active') : t('checkpoint.retiredAt', { at: formatDateTime(context.lang, c.retiredAt) })
        }</td></tr>`,
      )}</tbody></table></div>`
}`,
  );
}

function byDecisionTable(context: PageContext, stats: CheckpointStats): Html {
  const { t } = context;
  return html`<div class="table-wrap"><table data-by-decision>
<caption>${t('checkpoint.byDecision')}</caption>
<thead><tr><th scope="col">${t('checkpoint.decision')}</th>${windows.map((w) => html`<th scope="col" class="num">${t(`stats.${w}`)}</th>`)}</tr></thead>
<tbody>${decisions.map(
    (d) => html`<tr data-decision="${d}"><th scope="row">${t(`checkpoint.decision.${d}`)}</th>${windows.map((w) => html`<td class="num">${formatCount(context.lang, stats.byDecision[d][w])}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

/** The broker address a terminal on this site would use: the host the console was reached at, the central's MQTT port. */
function suggestedBrokerUrl(config: Pick<CentralConfig, 'mqtt'>, hostHeader: string | undefined): string {
  let host = config.mqtt.host === '0.0.0.0' ? 'localhost' : config.mqtt.host;
  try {
    if (hostHeader !== undefined) host = new URL(`http://${hostHeader}`).hostname;
  } catch {
    // A Host header that is no host: keep the configured one.
  }
  return config.mqtt.tls ? `mqtts://${host}:${config.mqtt.tls.port}` : `mqtt://${host}:${config.mqtt.port}`;
}

interface EnrollForm {
  readonly url: string;
  readonly lists: string;
  readonly minutes: string;
  readonly problem?: string;
}

function enrollForm(context: PageContext, checkpoint: Checkpoint, form: EnrollForm): Html {
  const { t } = context;
  return html`<form method="post" action="/checkpoints/${checkpoint.code}/enroll-qr" class="card" data-enroll>
<h2>${t('enroll.title')}</h2>
${csrfField(context)}
<p class="hint">${t('enroll.hint')}</p>
${form.problem === undefined ? '' : html`<p class="error" role="alert" id="enroll-problem">${form.problem}</p>`}
<div class="field"><label for="enroll-url">${t('enroll.url')}</label>
<input id="enroll-url" name="url" type="text" required value="${form.url}" autocomplete="off" class="code"></div>
<div class="field"><label for="enroll-lists">${t('enroll.lists')}</label>
<input id="enroll-lists" name="lists" type="text" required value="${form.lists}" autocomplete="off"></div>
<div class="field"><label for="enroll-minutes">${t('enroll.minutes')}</label>
<input id="enroll-minutes" name="minutes" type="number" min="1" max="10080" required value="${form.minutes}"></div>
<button type="submit">${t('enroll.submit')}</button>
</form>`;
}

function checkpointPage(context: PageContext, principal: Principal, checkpoint: Checkpoint, stats: CheckpointStats, charts: Html, form: Form, problems: ReadonlyMap<string, string>, notice?: string, enroll?: EnrollForm): Html {
  const { t } = context;
  const editable = managesCheckpoint(principal, checkpoint) && checkpoint.retiredAt === null;
  const values: Form = { name: checkpoint.name, direction: checkpoint.direction, confirm: checkpoint.confirm, unit: checkpoint.unit, ...form };
  return layout(
    context,
    { title: checkpoint.name, path: '/checkpoints' },
    html`${notice === undefined ? '' : html`<p class="notice" role="status">${notice}</p>`}
<p><a href="/checkpoints">${t('checkpoints.back')}</a></p>
<div class="card checkpoint-head">
<p class="hint">${t('checkpoint.code')}</p>
<p class="code huge-code" data-code>${checkpoint.code}</p>
<p>${t(`checkpoint.direction.${checkpoint.direction}`)} · ${t(`checkpoint.confirm.${checkpoint.confirm}`)}${checkpoint.unit === '' ? '' : html` · ${checkpoint.unit}`}${
      checkpoint.retiredAt === null ? '' : html` · <strong>${t('checkpoint.retiredAt', { at: formatDateTime(context.lang, checkpoint.retiredAt) })}</strong>`
    }</p>
${managesCheckpoint(principal, checkpoint) ? html`<p><a class="button" href="/checkpoints/${checkpoint.code}/sign.pdf" download>${t('checkpoint.sign')}</a></p>` : ''}
</div>
<section aria-labelledby="counts-title"><h2 id="counts-title">${t('checkpoint.counts')}</h2>
${fourCounts(context, stats, t('checkpoint.counts'))}
${byDecisionTable(context, stats)}</section>
<section aria-labelledby="charts-title"><h2 id="charts-title">${t('checkpoint.charts')}</h2>${charts}</section>
${
  editable
    ? html`<div class="forms"><form method="post" action="/checkpoints/${checkpoint.code}" class="card">
<h2>${t('checkpoint.edit')}</h2>
${csrfField(context)}
${fields(context, principal, 'edit', values, problems)}
<button type="submit">${t('checkpoint.save')}</button>
</form>
<form method="post" action="/checkpoints/${checkpoint.code}/retire" class="card danger">
<h2>${t('checkpoint.retire')}</h2>
${csrfField(context)}
<p class="hint">${t('checkpoint.retireHint')}</p>
<button type="submit" class="danger">${t('checkpoint.retireSubmit')}</button>
</form></div>`
    : ''
}
${principal.role === 'admin' && checkpoint.retiredAt === null && enroll !== undefined ? enrollForm(context, checkpoint, enroll) : ''}`,
  );
}

/** The scans per hour over the last 24 hours and per local day over the last 30, as charts. */
async function charts(deps: Pick<RouteDeps, 'store' | 'now'>, context: PageContext, code: string): Promise<Html> {
  const { t, lang } = context;
  const now = deps.now();
  const hourFrom = bucketStart(now, 'hour') - 23 * bucketMs.hour;
  const dayFrom = bucketStart(now, 'day') - 29 * bucketMs.day;
  const [hours, days] = await Promise.all([deps.store.checkpointHistogram(code, hourFrom, now + 1, 'hour'), deps.store.checkpointHistogram(code, dayFrom, now + 1, 'day')]);
  const hourBars: Bar[] = hours.map((bar, i) => ({ label: formatHour(bar.startMs), tick: i % 3 === 0 ? formatHour(bar.startMs) : '', value: bar.count, shown: formatCount(lang, bar.count) }));
  const dayBars: Bar[] = days.map((bar, i) => ({ label: formatDay(lang, bar.startMs), tick: i % 5 === 0 ? formatDay(lang, bar.startMs) : '', value: bar.count, shown: formatCount(lang, bar.count) }));
  const total = (bars: readonly Bar[]) => formatCount(lang, bars.reduce((sum, bar) => sum + bar.value, 0));
  return html`${barChart('per-hour', t('checkpoint.perHour'), t('checkpoint.perHourDesc', { total: total(hourBars) }), hourBars, { label: t('checkpoint.hour'), value: t('checkpoint.scans'), table: t('checkpoint.asTable') })}
${barChart('per-day', t('checkpoint.perDay'), t('checkpoint.perDayDesc', { total: total(dayBars) }), dayBars, { label: t('checkpoint.day'), value: t('checkpoint.scans'), table: t('checkpoint.asTable') })}`;
}

function codeParam(request: Pick<AuthorizedRequest, 'params'>): string {
  const code = checkpointCodeSchema.safeParse(request.params.code);
  if (!code.success) throw badRequest(zodReason(code.error, 'code'));
  return code.data;
}

export function checkpointPages(deps: Pick<RouteDeps, 'store' | 'now' | 'logger' | 'config'>): Route[] {
  const visible = async (principal: Principal) => (await deps.store.listCheckpoints()).filter((checkpoint) => seesCheckpoint(principal, checkpoint));
  const defaultEnroll = (request: AuthorizedRequest): EnrollForm => {
    const host = request.headers.host;
    return { url: suggestedBrokerUrl(deps.config, typeof host === 'string' ? host : undefined), lists: 'default', minutes: String(defaultEnrollTtlS / 60) };
  };
  const renderCheckpoint = async (request: AuthorizedRequest, checkpoint: Checkpoint, form: Form, problems: ReadonlyMap<string, string>, notice?: string, enroll?: EnrollForm) => {
    const context = pageContext(request);
    const stats = (await deps.store.checkpointStats(checkpoint.code, deps.now()))!;
    return checkpointPage(context, request.principal, checkpoint, stats, await charts(deps, context, checkpoint.code), form, problems, notice, enroll ?? defaultEnroll(request));
  };

  const list: ProtectedRoute = {
    path: '/checkpoints',
    access: everyRole,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      return htmlResponse(context, listPage(context, request.principal, await visible(request.principal), {}, new Map()));
    },
  };
  const create: ProtectedRoute = {
    method: 'POST',
    path: '/checkpoints',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { principal } = request;
      const form = parseForm(request.body);
      const typedUnit = principal.role === 'admin' && form.unit !== undefined && form.unit.trim() !== '' ? form.unit : undefined;
      checkUnitFor(principal, typedUnit, 'create a checkpoint in');
      const unit = principal.role === 'manager' ? principal.unit! : typedUnit;
      try {
        const input = { name: form.name ?? '', direction: form.direction ?? '', confirm: form.confirm ?? '', ...(unit === undefined ? {} : { unit }) } as NewCheckpoint;
        const checkpoint = await createCheckpoint(deps.store, input);
        recordFact(request, deps.logger, auditFacts.checkpointCreated(checkpoint));
        return seeOther(`/checkpoints/${checkpoint.code}?done=created`, context.langCookie);
      } catch (err) {
        return htmlResponse(context, listPage(context, principal, await visible(principal), form, refusals(context, err)));
      }
    },
  };
  const show: ProtectedRoute = {
    path: '/checkpoints/{code}',
    access: everyRole,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const checkpoint = await checkpointInScope(deps.store, request.principal, codeParam(request));
      const done = request.query.get('done');
      const notice = done === 'created' || done === 'saved' || done === 'retired' ? context.t(`checkpoint.done.${done}`) : undefined;
      return htmlResponse(context, await renderCheckpoint(request, checkpoint, {}, new Map(), notice));
    },
  };
  const edit: ProtectedRoute = {
    method: 'POST',
    path: '/checkpoints/{code}',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { principal } = request;
      const current = await managedCheckpoint(deps, principal, request.params.code);
      const form = parseForm(request.body);
      const changes = {
        ...(form.name === undefined ? {} : { name: form.name }),
        ...(form.direction === undefined ? {} : { direction: form.direction }),
        ...(form.confirm === undefined ? {} : { confirm: form.confirm }),
        // Only an admin's form has the unit field; a manager's checkpoint stays in its unit.
        ...(principal.role === 'admin' && form.unit !== undefined ? { unit: form.unit } : {}),
      };
      checkUnitFor(principal, changes.unit, 'move a checkpoint to');
      try {
        const { before, after } = await updateCheckpoint(deps.store, current.code, changes as Parameters<typeof updateCheckpoint>[2]);
        recordFact(request, deps.logger, auditFacts.checkpointUpdated(before, after));
        return seeOther(`/checkpoints/${current.code}?done=saved`, context.langCookie);
      } catch (err) {
        return htmlResponse(context, await renderCheckpoint(request, current, form, refusals(context, err)));
      }
    },
  };
  const retire: ProtectedRoute = {
    method: 'POST',
    path: '/checkpoints/{code}/retire',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const current = await managedCheckpoint(deps, request.principal, request.params.code);
      const checkpoint = await retireCheckpoint(deps.store, current.code);
      recordFact(request, deps.logger, auditFacts.checkpointRetired(checkpoint));
      return seeOther(`/checkpoints/${checkpoint.code}?done=retired`, context.langCookie);
    },
  };
  const sign: ProtectedRoute = {
    path: '/checkpoints/{code}/sign.pdf',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const { t } = pageContext(request);
      const checkpoint = await managedCheckpoint(deps, request.principal, request.params.code);
      // pdfkit and its fonts load on the first sign printed, not at the central's start.
      const { checkpointSignPdf } = await import('../../broker/registry/checkpointSignPdf.js');
      const pdf = await checkpointSignPdf(checkpoint, { heading: t('sign.heading'), code: t('sign.code'), unit: t('sign.unit'), hint: t('sign.hint') });
      return { status: 200, stream: pdf, contentType: 'application/pdf', headers: { 'content-disposition': `attachment; filename="qrgate-checkpoint-${checkpoint.code}.pdf"` } };
    },
  };
  const enroll: ProtectedRoute = {
    method: 'POST',
    path: '/checkpoints/{code}/enroll-qr',
    access: only('admin'),
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t } = context;
      const checkpoint = await checkpointInScope(deps.store, request.principal, codeParam(request));
      const body = z.object({ url: z.string().max(300).default(''), lists: z.string().max(1000).default(''), minutes: z.string().max(10).default('') }).safeParse(request.body ?? {});
      const form: EnrollForm = body.success ? body.data : defaultEnroll(request);
      const minutes = Number(form.minutes);
      const lists = form.lists.split(/[\s,]+/).filter((scope) => scope !== '');
      // Checked with the schemas makeEnrollmentQrImage applies, to say which field is wrong in the visitor's words.
      const problem = !brokerUrlSchema.safeParse(form.url.trim()).success
        ? t('enroll.problem.url')
        : !lists.every((scope) => listScopeSchema.safeParse(scope).success)
          ? t('enroll.problem.lists')
          : !Number.isInteger(minutes) || minutes < 1 || minutes * 60 > maxEnrollTtlS
            ? t('enroll.problem.minutes')
            : undefined;
      if (problem !== undefined) return htmlResponse(context, await renderCheckpoint(request, checkpoint, {}, new Map(), undefined, { ...form, problem }));
      // The same function and audit fact as POST /api/terminals/enroll-qr.
      const made = await makeEnrollmentQrImage({
        config: deps.config,
        store: deps.store,
        checkpointCode: checkpoint.code,
        url: form.url.trim(),
        format: 'png',
        nowMs: deps.now,
        ttlS: minutes * 60,
        ...(lists.length === 0 ? {} : { lists }),
      });
      recordFact(request, deps.logger, auditFacts.enrollQrMade(made));
      const png = (made.image as Buffer).toString('base64');
      const page = layout(
        context,
        { title: t('enroll.title'), path: '/checkpoints' },
        html`<p><a href="/checkpoints/${checkpoint.code}">${t('enroll.back', { name: checkpoint.name })}</a></p>
<figure class="card enroll-qr">
<img src="data:image/png;base64,${png}" alt="${t('enroll.alt', { name: checkpoint.name })}" data-enroll-qr>
<figcaption><strong>${checkpoint.name}</strong><br><span class="code">${checkpoint.code}</span><br><span data-expires>${t('enroll.expires', { at: formatDateTime(context.lang, made.expiresAt) })}</span></figcaption>
</figure>
<p class="hint">${t('enroll.secret')}</p>`,
      );
      // Until used or expired the QR is a key to the fleet: not to be kept by a browser's cache.
      return { ...htmlResponse(context, page), headers: noStore };
    },
  };
  return [list, create, show, edit, retire, sign, enroll];
}
