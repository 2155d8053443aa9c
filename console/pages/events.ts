import { z } from 'zod';
import { HttpError } from '../../broker/api/http.js';
import { only, type ProtectedRoute } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { eventsQuerySchema, memberOfEvent, membersOf, resolvedEventFilter, storeQueryError } from '../../broker/api/routes/events.js';
import { lazyRefHasher } from '../../broker/api/routes/registryScope.js';
import { visibleCheckpointCodes } from '../../broker/api/routes/scope.js';
import { unitsWithMembers } from '../../broker/registry/memberQueries.js';
import type { EventQuery } from '../../broker/store/centralStore.js';
import { refToHex } from '../../protocol/credentialRef.js';
import { normaliseCitizenId } from '../../protocol/credentials/typed.js';
import { decisions, directions, reasons } from '../../protocol/event.js';
import { html } from '../html.js';
import type { Translate } from '../i18n/lang.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther } from '../pageContext.js';
import { eventRow, type EventWords } from '../shared/eventRow.js';
import { siteOffset } from '../shared/siteTime.js';

const pageSize = 50;
/** The form's own fields; `from`/`to` are local Vietnam wall times from datetime-local inputs. */
const formFields = ['from', 'to', 'checkpoint', 'direction', 'decision', 'unit', 'residence', 'person', 'member'] as const;

function rowWords(t: Translate): EventWords {
  const words: Record<string, string> = { 'person.none': t('events.person.none'), 'person.otherUnit': t('guard.otherUnit') };
  for (const d of directions) words[`direction.${d}`] = t(`events.direction.${d}`);
  for (const d of decisions) words[`decision.${d}`] = t(`events.decision.${d}`);
  for (const r of reasons) words[`reason.${r}`] = t(`events.reason.${r}`);
  return words;
}

/** A datetime-local value ("2026-12-03T07:30") read as Vietnam time, in the API's ISO form. */
function localToIso(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00${siteOffset}` : value;
}

/**
 * `/events` (issue 14 page 4): the in/out log with its filters, a page at a time (the store's
 * keyset cursor), new events arriving without a reload (client/events.ts on
 * /api/events/live), and the same filters as a CSV download (/events.csv). The filters, the
 * scope and what is shown of a person are /api/events's own functions.
 */
export function eventsPage(deps: Pick<RouteDeps, 'store' | 'registry'>): ProtectedRoute {
  return {
    path: '/events',
    access: only('admin', 'manager', 'guard'),
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t, lang } = context;
      const typed = Object.fromEntries(formFields.map((name) => [name, (request.query.get(name) ?? '').trim()]));
      const filter: Record<string, string> = {};
      for (const name of formFields) if (typed[name]) filter[name] = name === 'from' || name === 'to' ? localToIso(typed[name]!) : typed[name]!;
      const cursor = request.query.get('cursor') ?? undefined;
      const parsed = eventsQuerySchema.safeParse({ ...filter, limit: String(pageSize), ...(cursor ? { cursor } : {}) });
      const visible = await visibleCheckpointCodes(deps.store, request.principal);
      const checkpoints = (await deps.store.listCheckpoints()).filter((c) => visible === undefined || visible.includes(c.code));
      const names = Object.fromEntries(checkpoints.map((c) => [c.code, c.name]));
      const words = rowWords(t);

      let problem: string | undefined;
      let rows: ReturnType<typeof eventRow>[] = [];
      let nextCursor: string | null = null;
      if (!parsed.success) problem = t('events.badFilter');
      else {
        try {
          const query: EventQuery = await resolvedEventFilter(deps, request.principal, parsed.data);
          const page = await deps.store.searchEvents(query);
          const members = await membersOf(deps.store, page.events);
          rows = page.events.map((event) => eventRow({ ...event, member: memberOfEvent(members, event, request.principal) }, words, lang, names));
          nextCursor = page.nextCursor;
        } catch (err) {
          if (err instanceof HttpError && err.status === 403) problem = t('events.notAllowed');
          else {
            const known = storeQueryError(err);
            if (known === err) throw err;
            problem = t('events.badFilter');
          }
        }
      }
      const apiFilter = new URLSearchParams(filter).toString();
      const next = new URLSearchParams(Object.entries(typed).filter(([, v]) => v !== '') as [string, string][]);
      if (nextCursor !== null) next.set('cursor', nextCursor);
      const select = (name: string, options: readonly string[], label: (v: string) => string) =>
        html`<select id="f-${name}" name="${name}"><option value="">${t('events.any')}</option>${options.map(
          (o) => html`<option value="${o}"${typed[name] === o ? html` selected` : ''}>${label(o)}</option>`,
        )}</select>`;
      const guard = request.principal.role === 'guard';
      const units = await unitsWithMembers(deps.registry);
      const text = (name: 'unit' | 'residence' | 'person', options: { list?: string; hint?: boolean } = {}) =>
        html`<input id="f-${name}" name="${name}" type="text" autocomplete="off" value="${typed[name]}"${options.list ? html` list="${options.list}"` : ''}${options.hint ? html` aria-describedby="f-hints"` : ''}>`;
      const withoutMember = new URLSearchParams(Object.entries(typed).filter(([k, v]) => v !== '' && k !== 'member') as [string, string][]).toString();
      const page = layout(
        context,
        { title: t('events.title'), path: '/events', scripts: cursor === undefined && problem === undefined ? ['events'] : [] },
        html`<form method="post" action="/events" class="card filters">
  ${csrfField(context)}
  <div><label for="f-from">${t('events.from')}</label><input id="f-from" name="from" type="datetime-local" value="${typed.from}"></div>
  <div><label for="f-to">${t('events.to')}</label><input id="f-to" name="to" type="datetime-local" value="${typed.to}"></div>
  <div><label for="f-checkpoint">${t('col.checkpoint')}</label>${select('checkpoint', checkpoints.map((c) => c.code), (code) => `${names[code]} (${code})`)}</div>
  <div><label for="f-direction">${t('events.col.direction')}</label>${select('direction', directions, (d) => t(`events.direction.${d as 'in' | 'out'}`))}</div>
  <div><label for="f-decision">${t('events.col.decision')}</label>${select('decision', decisions, (d) => t(`events.decision.${d as 'granted' | 'refused' | 'duplicate'}`))}</div>
  <div><label for="f-unit">${t('events.unit')}</label>${text('unit', { list: 'f-units' })}<datalist id="f-units">${units.map((u) => html`<option value="${u}">`)}</datalist></div>
  ${guard ? '' : html`<div><label for="f-residence">${t('events.residence')}</label>${text('residence', { hint: true })}</div>`}
  <div><label for="f-person">${t('events.person')}</label>${text('person', { hint: !guard })}</div>
  ${guard ? '' : html`<p class="hint filters-note" id="f-hints">${t('events.residenceHint')} ${t('events.personHint')}</p>`}
  ${typed.member ? html`<input type="hidden" name="member" value="${typed.member}">` : ''}
  <div class="filter-actions"><button type="submit">${t('events.filter')}</button> <a class="button secondary" href="/events.csv${apiFilter ? `?${apiFilter}` : ''}" download>${t('events.csv')}</a></div>
</form>
${typed.member ? html`<p class="hint" id="member-filter">${t('events.memberFilter')} <a href="/events${withoutMember ? `?${withoutMember}` : ''}">${t('events.memberFilterClear')}</a></p>` : ''}
${problem === undefined ? '' : html`<p class="error" role="alert">${problem}</p>`}
<p class="hint" id="live-state" role="status" aria-live="polite">${cursor === undefined && problem === undefined ? t('events.live') : ''}</p>
<div class="table-wrap"><table id="events" data-live="/api/events/live${apiFilter ? `?${apiFilter}` : ''}" data-lang="${lang}" data-words="${JSON.stringify(words)}" data-checkpoints="${JSON.stringify(names)}">
<thead><tr><th scope="col">${t('events.col.time')}</th><th scope="col">${t('col.checkpoint')}</th><th scope="col">${t('col.terminal')}</th><th scope="col">${t('events.col.direction')}</th><th scope="col">${t('events.col.decision')}</th><th scope="col">${t('events.col.reason')}</th><th scope="col">${t('events.col.person')}</th></tr></thead>
<tbody>${rows.map((row) => html`<tr data-event="${row.id}" class="decision-${row.decision}">${row.cells.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
</table></div>
${rows.length === 0 && problem === undefined ? html`<p class="hint" id="no-events">${t('events.none')}</p>` : ''}
${nextCursor === null ? '' : html`<p><a href="/events?${next.toString()}">${t('events.older')}</a></p>`}`,
      );
      return htmlResponse(context, page);
    },
  };
}

/** The filter form's fields as posted; anything else (the CSRF token) is not a filter. */
const postedFilters = z.object(Object.fromEntries(formFields.map((name) => [name, z.string().max(200).optional()]))).loose();

/**
 * `POST /events`: the filter form, posted so that an ID number typed into the person box
 * never sits in a URL (browser history, proxy logs). A number is hashed into its keyed ref
 * at once, with the central's key as /members/find does, and the browser is sent to the
 * GET /events of the same filters with `member=REF` instead; everything else is passed on
 * as typed, for GET /events to check.
 */
export function eventsFilterRoute(deps: Pick<RouteDeps, 'config'>): ProtectedRoute {
  const hasher = lazyRefHasher(deps);
  return {
    method: 'POST',
    path: '/events',
    access: only('admin', 'manager', 'guard'),
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const posted = postedFilters.safeParse(request.body ?? {});
      const filters = new URLSearchParams();
      for (const name of formFields) {
        const value = (posted.success ? posted.data[name] : undefined)?.trim() ?? '';
        if (value !== '') filters.set(name, value);
      }
      const person = filters.get('person');
      const id = person === null ? null : normaliseCitizenId(person);
      if (id?.ok === true) {
        filters.delete('person');
        filters.set('member', refToHex(hasher()('citizen', id.id)));
      }
      const search = filters.toString();
      return seeOther(`/events${search ? `?${search}` : ''}`, context.langCookie);
    },
  };
}
