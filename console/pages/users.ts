import { z } from 'zod';
import { auditFacts } from '../../broker/access/auditFacts.js';
import { RoleScopeError, roles, type Role } from '../../broker/access/roles.js';
import { AccountError, addUser, disableUser, listUsers, type User } from '../../broker/access/users.js';
import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { noStore, recordFact } from '../../broker/api/routes/auditFact.js';
import { notSelf } from '../../broker/api/routes/users.js';
import { formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';

/**
 * Users (issue 14 page 11): the console's accounts, admin only, through broker/access/users.ts
 * as `qrgate users …` and /api/users. A new user's password is generated and shown once on the
 * answer to the form (not cached, never stored in clear); an admin cannot disable themself.
 */

const admins = only('admin');

/** The role and its scope as a form sends them; /tokens asks the same. */
export const roleScopeForm = {
  role: z.string().max(50).catch(''),
  unit: z.string().trim().max(1000).catch(''),
  checkpoints: z.string().max(2000).catch(''),
};
type RoleScopeForm = { readonly role: string; readonly unit: string; readonly checkpoints: string };

export function roleScopeFields(context: PageContext, idPrefix: string, form: RoleScopeForm): Html {
  const { t } = context;
  return html`<label for="${idPrefix}-role">${t('users.role')}</label>
<select id="${idPrefix}-role" name="role">${roles.map((role: Role) => html`<option value="${role}"${role === form.role ? html` selected` : ''}>${t(`role.${role}`)}</option>`)}</select>
<label for="${idPrefix}-unit">${t('users.unitField')}</label>
<input id="${idPrefix}-unit" name="unit" type="text" value="${form.unit}">
<label for="${idPrefix}-checkpoints">${t('users.checkpointsField')}</label>
<input id="${idPrefix}-checkpoints" name="checkpoints" type="text" inputmode="numeric" value="${form.checkpoints}">`;
}

/** Only the field the role needs: the form always sends both. */
export function roleScopeInput(form: RoleScopeForm): { role: string; unit: string | undefined; checkpoints: string[] | undefined } {
  return {
    role: form.role,
    unit: form.role === 'manager' ? form.unit : undefined,
    checkpoints: form.role === 'guard' ? form.checkpoints.split(/[\s,]+/).filter((code) => code !== '') : undefined,
  };
}

/** How a list shows a role's scope: a manager's unit, a guard's checkpoints. */
export function scopeText(context: PageContext, scope: Pick<User, 'role' | 'unit' | 'checkpoints'>): string {
  if (scope.role === 'manager') return context.t('users.unitIs', { unit: scope.unit ?? '' });
  if (scope.role === 'guard') return scope.checkpoints.join(', ');
  return '—';
}

const addForm = z.object({ username: z.string().trim().max(200).catch(''), ...roleScopeForm });
type AddForm = z.infer<typeof addForm>;

interface Shown {
  readonly form?: AddForm;
  readonly problem?: string;
  readonly created?: { readonly username: string; readonly password: string };
  readonly notice?: string;
}

function usersPage(context: PageContext, self: string, users: readonly User[], shown: Shown): Html {
  const { t, lang } = context;
  const form = shown.form ?? { username: '', role: 'guard', unit: '', checkpoints: '' };
  return layout(
    context,
    { title: t('users.title'), path: '/users' },
    html`<p><a href="/tokens">${t('users.tokensLink')}</a></p>
${shown.notice === undefined ? '' : html`<p class="notice" role="status">${shown.notice}</p>`}
${
  shown.created === undefined
    ? ''
    : html`<div class="card narrow created" role="status">
<p>${t('users.created', { user: shown.created.username })}</p>
<label for="new-password">${t('users.password')}</label>
<input id="new-password" class="code" type="text" readonly value="${shown.created.password}" autocomplete="off">
<p class="hint">${t('users.shownOnce')}</p>
</div>`
}
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('login.username')}</th><th scope="col">${t('users.role')}</th><th scope="col">${t('users.scope')}</th><th scope="col">${t('users.createdAt')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('users.actions')}</th></tr></thead>
<tbody>${users.map(
      (user) =>
        html`<tr data-user="${user.username}"><td class="code" data-label="${t('login.username')}">${user.username}</td><td data-label="${t('users.role')}">${t(`role.${user.role}`)}</td><td data-label="${t('users.scope')}">${scopeText(context, user)}</td><td data-label="${t('users.createdAt')}">${formatDateTime(
          lang,
          user.createdAt,
        )}</td><td data-label="${t('col.state')}">${user.disabledAt === null ? html`<span class="status-allow">${t('users.active')}</span>` : html`<span class="status-deny">${t('users.disabled')}</span>`}</td><td>${
          user.disabledAt !== null || user.username === self
            ? ''
            : html`<form method="post" action="/users/${user.username}/disable">${csrfField(context)}<button type="submit" class="danger">${t('users.disable')}</button></form>`
        }</td></tr>`,
    )}</tbody></table></div>
<form method="post" action="/users" class="card narrow add-user">
<h2>${t('users.add')}</h2>
${csrfField(context)}
${shown.problem === undefined ? '' : html`<p class="error" role="alert">${shown.problem}</p>`}
<label for="user-username">${t('login.username')}</label>
<input id="user-username" name="username" type="text" required autocomplete="off" value="${form.username}">
${roleScopeFields(context, 'user', form)}
<p class="hint">${t('users.passwordGenerated')}</p>
<button type="submit">${t('users.add')}</button>
</form>`,
  );
}

/** The account rules' refusal in the visitor's words; the form is kept as typed. */
function refusal(context: PageContext, err: unknown): string {
  if (err instanceof AccountError) return context.t(`users.problem.${err.code}`);
  if (err instanceof RoleScopeError) return context.t('users.problem.role-scope');
  throw err;
}

export function userPages(deps: Pick<RouteDeps, 'registry' | 'logger' | 'now'>): Route[] {
  const show: ProtectedRoute = {
    path: '/users',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const disabled = request.query.get('disabled');
      return htmlResponse(context, usersPage(context, request.principal.id, await listUsers(deps.registry), disabled === null ? {} : { notice: context.t('users.disabledNow', { user: disabled }) }));
    },
  };
  const add: ProtectedRoute = {
    method: 'POST',
    path: '/users',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const form = addForm.parse(request.body ?? {});
      try {
        const { user, generatedPassword } = await addUser(deps.registry, { username: form.username, ...roleScopeInput(form) }, deps.now());
        recordFact(request, deps.logger, auditFacts.userAdded(user, generatedPassword !== null));
        const page = usersPage(context, request.principal.id, await listUsers(deps.registry), { created: { username: user.username, password: generatedPassword ?? '' } });
        return { ...htmlResponse(context, page), headers: noStore };
      } catch (err) {
        return htmlResponse(context, usersPage(context, request.principal.id, await listUsers(deps.registry), { form, problem: refusal(context, err) }));
      }
    },
  };
  const disable: ProtectedRoute = {
    method: 'POST',
    path: '/users/{username}/disable',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const user = await disableUser(deps.registry, notSelf(request.principal, request.params.username, 'disable'), deps.now());
      recordFact(request, deps.logger, auditFacts.userDisabled(user));
      return seeOther(`/users?disabled=${encodeURIComponent(user.username)}`, context.langCookie);
    },
  };
  return [show, add, disable];
}
