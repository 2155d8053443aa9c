import { z } from 'zod';
import type { Principal } from '../../broker/access/roles.js';
import { HttpError, type ApiResponse } from '../../broker/api/http.js';
import { only, type AuthorizedRequest, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { lazyRefHasher, memberByRef, memberInScope, unitInScope } from '../../broker/api/routes/registryScope.js';
import { issueCards } from '../../broker/registry/cards.js';
import { findMember, listMembers, type RegistryMember } from '../../broker/registry/memberQueries.js';
import { checkMemberField, checkMemberRow, memberColumns, memberStatuses, type MemberColumn, type MemberStatus } from '../../broker/registry/memberRow.js';
import { addMember, MemberError, memberKey, removeMember, updateMember } from '../../broker/registry/members.js';
import { decodePageCursor } from '../../broker/registry/pageCursor.js';
import { cardsIssued, memberAdded, memberRemoved, memberUpdated } from '../../broker/registry/registryAudit.js';
import { memberPhotoInfo } from '../../broker/registry/memberPhotos.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';
import { photoCard } from './memberPhoto.js';

/**
 * Members (issue 14 page 6): a unit manager finds, registers, changes and removes the people
 * of its unit and issues their cards, through the same registry functions and scope checks as
 * `qrgate members …` and /api/members. An ID number is typed only into POST forms, hashed at
 * once, and never put in a URL; pages show it masked. A form sent back with its problems marked
 * is a 200 page (the person is shown what to fix, as with any page), not an error status.
 */

const managers = only('admin', 'manager');
const pageSize = 50;
type Form = Partial<Record<MemberColumn, string>>;
type Problems = Partial<Record<MemberColumn | 'form', string>>;

const listQuery = z.object({
  q: z.string().trim().max(100).optional().catch(undefined),
  status: z.enum(memberStatuses).optional().catch(undefined),
  unit: z.string().trim().max(100).optional().catch(undefined),
  after: z.string().max(100).optional().catch(undefined),
});

function statusLabel(context: PageContext, status: MemberStatus): string {
  return context.t(`member.status.${status}`);
}

function statusSelect(context: PageContext, id: string, selected: string | undefined, withAny: boolean): Html {
  return html`<select id="${id}" name="status">${withAny ? html`<option value="">${context.t('members.anyStatus')}</option>` : ''}${memberStatuses.map(
    (s) => html`<option value="${s}"${s === selected ? html` selected` : ''}>${statusLabel(context, s)}</option>`,
  )}</select>`;
}

function field(context: PageContext, name: MemberColumn, form: Form, problems: Problems, options: { type?: string; required?: boolean; autocomplete?: string } = {}): Html {
  const problem = problems[name];
  const id = `member-${name}`;
  return html`<div class="field"><label for="${id}">${context.t(`member.${name}`)}</label>
<input id="${id}" name="${name}" type="${options.type ?? 'text'}" value="${form[name] ?? ''}"${options.required ? html` required` : ''} autocomplete="${options.autocomplete ?? 'off'}"${
    problem === undefined ? '' : html` aria-invalid="true" aria-describedby="${id}-problem"`
  }>${problem === undefined ? '' : html`<p class="problem" id="${id}-problem">${problem}</p>`}</div>`;
}

/** Per-field problems in the visitor's words: the registry's rules, the page's language. */
function problemsOf(context: PageContext, fields: Form, only?: readonly MemberColumn[]): Problems {
  const problems: Problems = {};
  for (const name of only ?? memberColumns) {
    if (fields[name] === undefined) continue;
    if (!checkMemberField(name, fields[name]).ok) problems[name] = context.t(`member.problem.${name}`);
  }
  return problems;
}

function memberRows(context: PageContext, members: readonly RegistryMember[]): Html {
  const { t } = context;
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t('member.name')}</th><th scope="col">${t('member.idMasked')}</th><th scope="col">${t('member.phone')}</th><th scope="col">${t('member.unit')}</th><th scope="col">${t('member.status')}</th><th scope="col">${t('member.card')}</th></tr></thead>
<tbody>${members.map(
    (m) =>
      html`<tr data-member="${m.ref}"><td><a href="/members/${m.ref}">${m.name}</a></td><td class="code">${m.idMasked}</td><td>${m.phone}</td><td>${m.unit}</td><td>${statusLabel(context, m.status)}</td><td class="code">${m.cardNumber ?? '—'}</td></tr>`,
  )}</tbody></table></div>`;
}

function listPage(context: PageContext, principal: Principal, query: z.infer<typeof listQuery>, page: { items: readonly RegistryMember[]; nextCursor: string | null }, findProblem?: string): Html {
  const { t } = context;
  const next = new URLSearchParams();
  for (const [key, value] of Object.entries({ q: query.q, status: query.status, unit: query.unit })) if (value) next.set(key, value);
  if (page.nextCursor !== null) next.set('after', page.nextCursor);
  return layout(
    context,
    { title: t('members.title'), path: '/members' },
    html`<p class="member-actions"><a class="button" href="/members/new">${t('members.add')}</a> <a class="button secondary" href="/members/import">${t('membersImport.link')}</a> <a class="button secondary" href="/members/lost-card">${t('lostCard.link')}</a></p>
<div class="forms">
<form method="get" action="/members" class="card search">
  <label for="q">${t('members.q')}</label>
  <input id="q" name="q" type="search" value="${query.q ?? ''}">
  <label for="status">${t('member.status')}</label>
  ${statusSelect(context, 'status', query.status, true)}
  ${principal.role === 'admin' ? html`<label for="unit">${t('member.unit')}</label><input id="unit" name="unit" type="text" value="${query.unit ?? ''}">` : ''}
  <button type="submit">${t('members.search')}</button>
</form>
<form method="post" action="/members/find" class="card search">
  ${csrfField(context)}
  <label for="idNumber">${t('members.findById')}</label>
  <input id="idNumber" name="idNumber" type="text" inputmode="numeric" autocomplete="off"${findProblem === undefined ? '' : html` aria-invalid="true" aria-describedby="find-problem"`}>
  ${findProblem === undefined ? '' : html`<p class="problem" id="find-problem">${findProblem}</p>`}
  <p class="hint">${t('members.findByIdHint')}</p>
  <button type="submit">${t('members.find')}</button>
</form>
</div>
${page.items.length === 0 ? html`<p class="hint">${t('members.none')}</p>` : memberRows(context, page.items)}
${page.nextCursor === null ? '' : html`<p><a href="/members?${next.toString()}">${t('members.next')}</a></p>`}`,
  );
}

function newPage(context: PageContext, principal: Principal, form: Form, problems: Problems): Html {
  const { t } = context;
  return layout(
    context,
    { title: t('members.add'), path: '/members' },
    html`<form method="post" action="/members/new" class="card narrow">
${csrfField(context)}
${problems.form === undefined ? '' : html`<p class="error" role="alert">${problems.form}</p>`}
${field(context, 'name', form, problems, { required: true, autocomplete: 'name' })}
${field(context, 'idNumber', form, problems, { required: true })}
${field(context, 'phone', form, problems, { type: 'tel', required: true })}
${field(context, 'address', form, problems)}
${principal.role === 'admin' ? field(context, 'unit', form, problems, { required: true }) : html`<p class="hint">${t('members.unitIs', { unit: principal.unit ?? '' })}</p>`}
${field(context, 'scope', form, problems, { required: true })}
<label for="member-status">${t('member.status')}</label>
${statusSelect(context, 'member-status', form.status ?? 'allow', false)}
<button type="submit">${t('members.save')}</button>
</form>`,
  );
}

function memberPage(context: PageContext, member: RegistryMember, photo: Html, form: Form, problems: Problems, notice?: string): Html {
  const { t } = context;
  const editable: readonly MemberColumn[] = ['name', 'phone', 'address', 'scope'];
  const values: Form = { name: member.name, phone: member.phone, address: member.address, scope: member.scope, ...form };
  return layout(
    context,
    { title: member.name, path: '/members', scripts: ['members'] },
    html`${notice === undefined ? '' : html`<p class="notice" role="status">${notice}</p>`}
<dl class="facts">
  <div><dt>${t('member.idMasked')}</dt><dd class="code">${member.idMasked}</dd></div>
  <div><dt>${t('member.unit')}</dt><dd>${member.unit}</dd></div>
  <div><dt>${t('member.status')}</dt><dd data-status="${member.status}">${statusLabel(context, member.status)}</dd></div>
  <div><dt>${t('member.card')}</dt><dd class="code" data-card>${member.cardNumber ?? t('members.noCard')}</dd></div>
</dl>
<div class="forms">
<form method="post" action="/members/${member.ref}" class="card">
  <h2>${t('members.edit')}</h2>
  ${csrfField(context)}
  ${editable.map((name) => field(context, name, values, problems, { required: name !== 'address', type: name === 'phone' ? 'tel' : 'text' }))}
  <button type="submit">${t('members.save')}</button>
</form>
<div>
<form method="post" action="/members/${member.ref}/status" class="card">
  <h2>${t('member.status')}</h2>
  ${csrfField(context)}
  <label for="member-status">${t('members.newStatus')}</label>
  ${statusSelect(context, 'member-status', member.status, false)}
  <button type="submit">${t('members.setStatus')}</button>
</form>
<form method="post" action="/members/${member.ref}/card" class="card">
  <h2>${t('member.card')}</h2>
  ${csrfField(context)}
  <p class="hint">${member.cardNumber === null ? t('members.issueHint') : t('members.reissueHint')}</p>
  <button type="submit">${member.cardNumber === null ? t('members.issue') : t('members.reissue')}</button>
  ${member.cardNumber === null ? '' : html`<p><a href="/api/cards.pdf?unit=${encodeURIComponent(member.unit)}">${t('members.cardsPdf')}</a></p>`}
</form>
${photo}
<form method="post" action="/members/${member.ref}/remove" class="card danger">
  <h2>${t('members.remove')}</h2>
  ${csrfField(context)}
  <label class="check"><input type="checkbox" name="confirm" value="yes" required> ${t('members.removeConfirm', { name: member.name })}</label>
  <button type="submit" class="danger">${t('members.remove')}</button>
</form>
</div>
</div>`,
  );
}

const textField = z.string().max(1000).optional();
const memberForm = z.object(Object.fromEntries(memberColumns.map((c) => [c, textField])) as Record<MemberColumn, typeof textField>);
const parseForm = (body: unknown): Form => {
  const parsed = memberForm.safeParse(body ?? {});
  return parsed.success ? parsed.data : {};
};

/** The registry's refusal on a form: the person's own words for it, the form kept as typed. */
function refusal(context: PageContext, err: unknown): string {
  if (err instanceof MemberError) return err.code === 'member-exists' ? context.t('members.exists') : context.t('members.invalid');
  throw err;
}

export function memberPages(deps: Pick<RouteDeps, 'registry' | 'config' | 'now'>): Route[] {
  const hasher = lazyRefHasher(deps);
  const list: ProtectedRoute = {
    path: '/members',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const query = listQuery.parse(Object.fromEntries(request.query));
      const after = query.after === undefined ? undefined : (decodePageCursor('m', query.after) ?? undefined);
      const page = await listMembers(deps.registry, { unit: unitInScope(request.principal, query.unit || undefined), status: query.status, q: query.q || undefined }, { limit: pageSize, after });
      return htmlResponse(context, listPage(context, request.principal, query, page));
    },
  };
  const find: ProtectedRoute = {
    method: 'POST',
    path: '/members/find',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const idNumber = z.object({ idNumber: z.string().max(64) }).safeParse(request.body ?? {});
      const empty = { items: [], nextCursor: null };
      try {
        const { ref } = memberKey(hasher(), idNumber.success ? idNumber.data.idNumber : '', 'idNumber');
        const member = await memberByRef(deps.registry, request.principal, ref);
        return seeOther(`/members/${member.ref}`, context.langCookie);
      } catch (err) {
        const problem = err instanceof MemberError ? context.t('member.problem.idNumber') : err instanceof HttpError ? context.t('members.notFound') : undefined;
        if (problem === undefined) throw err;
        return htmlResponse(context, listPage(context, request.principal, {}, empty, problem), err instanceof HttpError ? 404 : 400);
      }
    },
  };
  const showNew: ProtectedRoute = {
    path: '/members/new',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      return htmlResponse(context, newPage(context, request.principal, {}, {}));
    },
  };
  const add: ProtectedRoute = {
    method: 'POST',
    path: '/members/new',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const form = parseForm(request.body);
      const unit = unitInScope(request.principal, request.principal.role === 'admin' ? form.unit : undefined) ?? '';
      const raw = { name: '', phone: '', address: '', scope: '', idNumber: '', status: 'allow', ...form, unit } as Record<MemberColumn, string>;
      const checked = checkMemberRow(raw);
      if (!checked.ok) return htmlResponse(context, newPage(context, request.principal, form, problemsOf(context, raw)));
      try {
        const added = await addMember(deps.registry, hasher(), raw, deps.now());
        request.audit(memberAdded(added));
        const member = (await findMember(deps.registry, added.ref))!;
        return seeOther(`/members/${member.ref}`, context.langCookie);
      } catch (err) {
        return htmlResponse(context, newPage(context, request.principal, form, { form: refusal(context, err) }));
      }
    },
  };
  /** A page or form about one member: its visitor and the member, in scope or refused (403/404) before the handler runs. */
  const onMember = (
    method: 'GET' | 'POST',
    path: string,
    handle: (context: PageContext, member: RegistryMember, key: { ref: Buffer; idMasked: string }, request: AuthorizedRequest) => Promise<ApiResponse>,
  ): ProtectedRoute => ({
    method,
    path: `/members/{ref}${path}`,
    access: managers,
    readsQuery: true,
    async handle(request) {
      const member = await memberInScope(deps.registry, request.principal, request.params.ref!);
      const key = { ref: Buffer.from(member.ref, 'hex'), idMasked: member.idMasked };
      return handle(pageContext(request), member, key, request);
    },
  });
  /** The member's page; the photo card reads the `photo=` problem an upload was sent back with. */
  const page = async (context: PageContext, member: RegistryMember, request: AuthorizedRequest, form: Form, problems: Problems, notice?: string) =>
    memberPage(context, member, photoCard(context, member, await memberPhotoInfo(deps.registry, Buffer.from(member.ref, 'hex')), request.query.get('photo')), form, problems, notice);
  const done = (context: PageContext, member: RegistryMember, what: string) => seeOther(`/members/${member.ref}?done=${what}`, context.langCookie);
  const editable = ['name', 'phone', 'address', 'scope'] as const;

  const show = onMember('GET', '', async (context, member, _key, request) => {
    const what = request.query.get('done');
    const notice =
      what === 'saved' || what === 'status' || what === 'card' || what === 'added' || what === 'photo' || what === 'photo-removed' ? context.t(`members.done.${what}`) : undefined;
    return htmlResponse(context, await page(context, member, request, {}, {}, notice));
  });
  const edit = onMember('POST', '', async (context, member, key, request) => {
    const form = parseForm(request.body);
    const fields: Form = { name: form.name, phone: form.phone, address: form.address ?? '', scope: form.scope };
    const problems = problemsOf(context, fields, editable);
    if (Object.keys(problems).length > 0) return htmlResponse(context, await page(context, member, request, fields, problems));
    const changes = Object.fromEntries(
      editable.flatMap((name) => {
        const checked = fields[name] === undefined ? null : checkMemberField(name, fields[name]);
        return checked?.ok ? [[name, checked.value]] : [];
      }),
    );
    const result = await updateMember(deps.registry, key, changes, deps.now());
    if (result.changed.length > 0) request.audit(memberUpdated(result, 'member.update'));
    return done(context, member, 'saved');
  });
  const setStatus = onMember('POST', '/status', async (context, member, key, request) => {
    const status = checkMemberField('status', z.object({ status: z.string().max(20) }).catch({ status: '' }).parse(request.body ?? {}).status);
    if (!status.ok) return htmlResponse(context, await page(context, member, request, {}, {}));
    const result = await updateMember(deps.registry, key, { status: status.value as MemberStatus }, deps.now());
    if (result.changed.length > 0) request.audit(memberUpdated(result, 'member.set-status'));
    return done(context, member, 'status');
  });
  const card = onMember('POST', '/card', async (context, member, key, request) => {
    const selection = { by: 'member', idRef: key.ref } as const;
    const counts = await issueCards(deps.registry, { hasher: hasher(), now: deps.now }, selection, { reissue: member.cardNumber !== null });
    if (counts.issued + counts.reissued > 0) request.audit(cardsIssued(selection, counts, member.idMasked));
    return done(context, member, 'card');
  });
  const remove = onMember('POST', '/remove', async (context, member, key, request) => {
    if (!z.object({ confirm: z.literal('yes') }).safeParse(request.body ?? {}).success) return htmlResponse(context, await page(context, member, request, {}, {}));
    request.audit(memberRemoved(await removeMember(deps.registry, key)));
    return seeOther('/members', context.langCookie);
  });
  return [list, find, showNew, add, show, edit, setStatus, card, remove];
}

