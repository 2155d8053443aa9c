import { z } from 'zod';
import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { insideNowFor, markSafeFor, mayStartRollCall, requireMayStartRollCall, startRollCallFor, takeOutFor, takeOutSchema } from '../../broker/api/routes/inside.js';
import { findInside, type InsideGroup, type InsidePerson } from '../../broker/inside/insideView.js';
import { currentRollCalls } from '../../broker/inside/rollCalls.js';
import { formatCount, formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';

/**
 * `/inside` (issue 14 page 5): who is inside now, per checkpoint unit, as a roll-call list for
 * an evacuation: printed on A4 (console.css @media print) or worked from a phone, where each
 * "Safe" press is kept at the central with who pressed it (client/inside.ts shows the other
 * guards' marks as they come). The data, scope and actions are /api/inside's own functions.
 */

type Deps = Pick<RouteDeps, 'store' | 'registry' | 'config' | 'now' | 'logger'>;
const viewers = only('admin', 'manager', 'guard');
const operators = only('admin', 'manager');

/** A row's anchor: the start of its ref is unique enough within one page. */
const anchor = (ref: string) => `p-${ref.slice(0, 16)}`;

function personCells(context: PageContext, person: InsidePerson): { name: string; unit: string; id: string } {
  const { t } = context;
  if (person.member === null) return { name: t('inside.unregistered'), unit: '—', id: '—' };
  if ('otherUnit' in person.member) return { name: t('guard.otherUnit'), unit: person.member.unit, id: person.member.idMasked };
  return { name: person.member.name, unit: person.member.unit, id: person.member.idMasked };
}

function personRow(context: PageContext, group: InsideGroup, person: InsidePerson, canTakeOut: boolean, missingOnly: boolean): Html {
  const { t, lang } = context;
  const cells = personCells(context, person);
  const status =
    group.rollCall === null
      ? html`<span class="hint">${t('inside.noRollCall')}</span>`
      : person.safe !== null
        ? html`<span class="safe-mark">${t('inside.safeBy', { by: person.safe.by, at: formatDateTime(lang, person.safe.at) })}</span>`
        : html`<form method="post" action="/inside/safe">${csrfField(context)}<input type="hidden" name="rollCall" value="${group.rollCall.id}"><input type="hidden" name="ref" value="${person.ref}">${
            missingOnly ? html`<input type="hidden" name="missing" value="1">` : ''
          }<button type="submit" class="confirm mark-safe" aria-label="${t('inside.markSafeFor', { name: cells.name })}">${t('inside.markSafe')}</button></form>`;
  return html`<tr id="${anchor(person.ref)}" data-ref="${person.ref}" class="${person.safe === null ? 'missing' : 'safe'}">
<td class="tick" aria-hidden="true"></td>
<td data-label="${t('inside.col.person')}" class="person">${cells.name}</td>
<td data-label="${t('inside.col.unit')}">${cells.unit}</td>
<td data-label="${t('inside.col.id')}" class="code">${cells.id}</td>
<td data-label="${t('inside.col.since')}">${formatDateTime(lang, person.since)}</td>
<td data-label="${t('col.checkpoint')}">${person.checkpointName}</td>
<td data-label="${t('inside.col.status')}" class="roll-status">${status}${
    canTakeOut ? html` <a class="take-out" href="/inside/take-out?ref=${person.ref}">${t('inside.takeOut')}</a>` : ''
  }</td>
</tr>`;
}

function groupSection(context: PageContext, group: InsideGroup, index: number, canStart: boolean, canTakeOut: boolean, missingOnly: boolean): Html {
  const { t, lang } = context;
  const title = group.unit === '' ? t('inside.noUnit') : group.unit;
  const shown = missingOnly && group.rollCall !== null ? group.people.filter((p) => p.safe === null) : group.people;
  return html`<section class="card inside-group" id="g-${index}" data-unit="${group.unit}" aria-labelledby="g-${index}-title">
<h2 id="g-${index}-title">${title}</h2>
<p class="roll-summary"><span>${t('inside.groupCount', { count: formatCount(lang, group.people.length) })}</span>${
    group.rollCall === null
      ? ''
      : html` · <strong class="missing-count" data-missing="${group.missing}">${t('inside.missingCount', { count: formatCount(lang, group.missing) })}</strong> · <span class="hint">${t('inside.rollCallBy', {
          by: group.rollCall.startedBy,
          at: formatDateTime(lang, group.rollCall.startedAt),
        })}</span>`
  }</p>
${
  canStart
    ? html`<form method="post" action="/inside/roll-call" class="no-print">${csrfField(context)}<input type="hidden" name="unit" value="${group.unit}"><button type="submit" class="secondary-button">${
        group.rollCall === null ? t('inside.startRollCall') : t('inside.newRollCall')
      }</button></form>`
    : ''
}
<div class="table-wrap"><table class="stack roll-call">
<thead><tr><th scope="col" class="tick"><span class="visually-hidden">${t('inside.col.tick')}</span></th><th scope="col">${t('inside.col.person')}</th><th scope="col">${t('inside.col.unit')}</th><th scope="col">${t(
    'inside.col.id',
  )}</th><th scope="col">${t('inside.col.since')}</th><th scope="col">${t('col.checkpoint')}</th><th scope="col">${t('inside.col.status')}</th></tr></thead>
<tbody>${shown.map((person) => personRow(context, group, person, canTakeOut, missingOnly))}</tbody>
</table></div>
${shown.length === 0 ? html`<p class="hint">${t('inside.allSafe')}</p>` : ''}
</section>`;
}

/** `replaces`: the roll call under way that the person agreed to end, on the confirmation page. */
const startForm = z.object({ unit: z.string().max(200), replaces: z.string().regex(/^(none|\d{1,15})$/).optional() });
const safeForm = z.object({ rollCall: z.string().regex(/^\d{1,15}$/), ref: z.string().max(64), missing: z.string().optional() });

export function insidePages(deps: Deps): Route[] {
  const show: ProtectedRoute = {
    path: '/inside',
    access: viewers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t, lang, principal } = { ...context, principal: request.principal };
      const view = await insideNowFor(deps, principal);
      const missingOnly = request.query.get('missing') === '1';
      const canTakeOut = operators.includes(principal.role);
      const startable = await Promise.all(view.groups.map((group) => mayStartRollCall(deps, principal, group.unit)));
      const missing = view.groups.reduce((sum, group) => sum + group.missing, 0);
      const notice = request.query.get('takenOut') === '1' ? t('inside.takenOutNow') : request.query.get('started') === '1' ? t('inside.startedNow') : null;
      const printedAt = formatDateTime(lang, view.now);
      const page = layout(
        context,
        { title: t('inside.title'), path: '/inside', scripts: ['inside'] },
        html`${notice === null ? '' : html`<p class="notice" role="status">${notice}</p>`}
<p class="print-head">${t('inside.printHead', { at: printedAt })}</p>
<p class="hint">${t('inside.intro', { hours: view.expiryHours })}</p>
<dl class="counts inside-counts"><div><dt>${t('inside.total')}</dt><dd id="inside-total">${formatCount(lang, view.total)}</dd></div><div><dt>${t('inside.missingTotal')}</dt><dd id="inside-missing">${formatCount(lang, missing)}</dd></div><div><dt>${t('inside.updatedAt')}</dt><dd class="small-dd">${printedAt}</dd></div></dl>
<div class="inside-tools no-print">
  ${missingOnly ? html`<a class="button secondary" href="/inside">${t('inside.showAll')}</a>` : html`<a class="button secondary" href="/inside?missing=1">${t('inside.showMissing')}</a>`}
  <button type="button" id="print-roll" class="secondary-button">${t('inside.print')}</button>
</div>
<p class="hint no-print" id="inside-live" role="status" aria-live="polite" data-changed="${t('inside.changed')}"></p>
${view.groups.length === 0 ? html`<p class="hint" id="nobody-inside">${t('inside.nobody')}</p>` : view.groups.map((group, i) => groupSection(context, group, i + 1, startable[i]!, canTakeOut, missingOnly))}`,
      );
      return htmlResponse(context, page);
    },
  };

  /**
   * A new roll call starts from nobody marked, so while one is under way the first press only
   * asks (a page, no script needed); the answer names the roll call it ends, and if another
   * was started meanwhile the question is asked again about that one.
   */
  const confirmReplace = async (request: Parameters<ProtectedRoute['handle']>[0], group: InsideGroup, changed: boolean) => {
    const context = pageContext(request);
    const { t, lang } = context;
    const rollCall = group.rollCall!;
    const body = html`<form method="post" action="/inside/roll-call" class="card narrow" id="replace-roll-call">
${csrfField(context)}<input type="hidden" name="unit" value="${group.unit}"><input type="hidden" name="replaces" value="${rollCall.id}">
${changed ? html`<p class="error" role="alert">${t('inside.replaceChanged')}</p>` : ''}
<p>${t('inside.replaceExplain', {
      unit: group.unit === '' ? t('inside.noUnit') : group.unit,
      at: formatDateTime(lang, rollCall.startedAt),
      by: rollCall.startedBy,
      safe: formatCount(lang, group.people.length - group.missing),
      missing: formatCount(lang, group.missing),
    })}</p>
<p class="replace-warning">${t('inside.replaceWarning')}</p>
<div class="replace-actions"><button type="submit" class="danger">${t('inside.replaceConfirm')}</button> <a class="button secondary" href="/inside">${t('inside.replaceKeep')}</a></div>
</form>`;
    return htmlResponse(context, layout(context, { title: t('inside.replaceTitle'), path: '/inside' }, body), changed ? 409 : 200);
  };

  const start: ProtectedRoute = {
    method: 'POST',
    path: '/inside/roll-call',
    access: viewers,
    async handle(request) {
      const context = pageContext(request);
      const { unit, replaces } = startForm.parse(request.body ?? {});
      await requireMayStartRollCall(deps, request.principal, unit);
      const open = (await currentRollCalls(deps.registry, [unit])).get(unit) ?? null;
      const agreed = replaces === undefined ? undefined : replaces === 'none' ? null : Number(replaces);
      if (open !== null && agreed !== open.id) {
        const group = (await insideNowFor(deps, request.principal)).groups.find((g) => g.unit === unit && g.rollCall?.id === open.id);
        if (group !== undefined) return confirmReplace(request, group, agreed !== undefined);
        // Nobody of that group is inside now: no mark on the list would be lost.
      }
      await startRollCallFor(deps, request, unit, open?.id ?? null);
      return seeOther('/inside?started=1', context.langCookie);
    },
  };

  const safe: ProtectedRoute = {
    method: 'POST',
    path: '/inside/safe',
    access: viewers,
    async handle(request) {
      const context = pageContext(request);
      const form = safeForm.parse(request.body ?? {});
      await markSafeFor(deps, request, Number(form.rollCall), form.ref);
      return seeOther(`/inside${form.missing === '1' ? '?missing=1' : ''}#${anchor(form.ref)}`, context.langCookie);
    },
  };

  const takeOutPage = async (request: Parameters<ProtectedRoute['handle']>[0], ref: string, reason: string, problem: boolean) => {
    const context = pageContext(request);
    const { t, lang } = context;
    const found = findInside(await insideNowFor(deps, request.principal), ref);
    const body =
      found === null
        ? html`<p class="error" role="alert">${t('inside.notInside')}</p><p><a href="/inside">${t('inside.back')}</a></p>`
        : html`<form method="post" action="/inside/take-out" class="card narrow" novalidate>
${csrfField(context)}<input type="hidden" name="ref" value="${ref}">
<p><strong>${personCells(context, found.person).name}</strong> · ${personCells(context, found.person).id}<br>${t('inside.wentIn', { at: formatDateTime(lang, found.person.since), checkpoint: found.person.checkpointName })}</p>
<p class="hint">${t('inside.takeOutExplain')}</p>
${problem ? html`<p class="error" role="alert" id="reason-error">${t('inside.reasonNeeded')}</p>` : ''}
<label for="take-out-reason">${t('inside.reason')}</label>
<input id="take-out-reason" name="reason" type="text" maxlength="200" value="${reason}"${problem ? html` aria-invalid="true" aria-describedby="reason-error"` : ''}>
<button type="submit" class="danger">${t('inside.takeOutConfirm')}</button> <a href="/inside">${t('inside.back')}</a>
</form>`;
    return htmlResponse(context, layout(context, { title: t('inside.takeOutTitle'), path: '/inside' }, body), found === null ? 404 : 200);
  };

  const takeOutForm: ProtectedRoute = {
    path: '/inside/take-out',
    access: operators,
    readsQuery: true,
    async handle(request) {
      return takeOutPage(request, request.query.get('ref') ?? '', '', false);
    },
  };

  const takeOut: ProtectedRoute = {
    method: 'POST',
    path: '/inside/take-out',
    access: operators,
    async handle(request) {
      const context = pageContext(request);
      const raw = z.object({ ref: z.string().max(64), reason: z.string().max(1000) }).catch({ ref: '', reason: '' }).parse(request.body ?? {});
      const parsed = takeOutSchema.safeParse({ ref: raw.ref, reason: raw.reason });
      if (!parsed.success) return takeOutPage(request, raw.ref, raw.reason, true);
      await takeOutFor(deps, request, parsed.data.ref, parsed.data.reason);
      return seeOther('/inside?takenOut=1', context.langCookie);
    },
  };

  return [show, start, safe, takeOutForm, takeOut];
}
