import { z } from 'zod';
import { auditFacts } from '../../broker/access/auditFacts.js';
import { actorOf } from '../../broker/access/roles.js';
import { AccountError } from '../../broker/access/users.js';
import { createToken, listTokens, revokeToken, TokenError, type ApiToken } from '../../broker/access/tokens.js';
import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { noStore, recordFact } from '../../broker/api/routes/auditFact.js';
import { formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, seeOther, type PageContext } from '../pageContext.js';
import { roleScopeFields, roleScopeForm, roleScopeInput, scopeText } from './users.js';

/**
 * API tokens (issue 14 page 11), admin only, through broker/access/tokens.ts as
 * `qrgate tokens …` and /api/tokens: the token is shown once on the answer to the form (not
 * cached; the central keeps only its hash), revoked at once with one button.
 */

const admins = only('admin');
const createForm = z.object({
  name: z.string().max(1000).catch(''),
  ...roleScopeForm,
  readOnly: z.string().optional().catch(undefined),
  expiresDays: z.string().max(10).catch(''),
});
type CreateForm = z.infer<typeof createForm>;

interface Shown {
  readonly form?: CreateForm;
  readonly problem?: string;
  readonly created?: string;
  readonly notice?: string;
}

function tokensPage(context: PageContext, tokens: readonly ApiToken[], shown: Shown): Html {
  const { t, lang } = context;
  const form = shown.form ?? { name: '', role: 'inspector', unit: '', checkpoints: '', readOnly: 'yes', expiresDays: '' };
  const when = (iso: string | null) => (iso === null ? '—' : formatDateTime(lang, iso));
  return layout(
    context,
    { title: t('tokens.title'), path: '/users' },
    html`<p><a href="/users">${t('nav.users')}</a></p>
${shown.notice === undefined ? '' : html`<p class="notice" role="status">${shown.notice}</p>`}
${
  shown.created === undefined
    ? ''
    : html`<div class="card created" role="status">
<label for="new-token">${t('tokens.token')}</label>
<input id="new-token" class="code" type="text" readonly value="${shown.created}" autocomplete="off">
<p class="hint">${t('tokens.shownOnce')}</p>
</div>`
}
${
  tokens.length === 0
    ? html`<p class="hint">${t('tokens.none')}</p>`
    : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${t('tokens.id')}</th><th scope="col">${t('tokens.name')}</th><th scope="col">${t('users.role')}</th><th scope="col">${t('tokens.expiresAt')}</th><th scope="col">${t('tokens.lastUsed')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('users.actions')}</th></tr></thead>
<tbody>${tokens.map(
        (token) =>
          html`<tr data-token="${token.tokenId}"><td class="code" data-label="${t('tokens.id')}">${token.tokenId}</td><td data-label="${t('tokens.name')}">${token.name}</td><td data-label="${t('users.role')}">${t(`role.${token.role}`)}${
            token.readOnly ? html` (${t('tokens.readOnlyShort')})` : ''
          }${token.role === 'manager' || token.role === 'guard' ? html`<br>${scopeText(context, token)}` : ''}</td><td data-label="${t('tokens.expiresAt')}">${when(token.expiresAt)}</td><td data-label="${t('tokens.lastUsed')}">${when(
            token.lastUsedAt,
          )}</td><td data-label="${t('col.state')}">${token.revokedAt === null ? html`<span class="status-allow">${t('users.active')}</span>` : html`<span class="status-deny">${t('tokens.revoked')}</span>`}</td><td>${
            token.revokedAt === null ? html`<form method="post" action="/tokens/${token.tokenId}/revoke">${csrfField(context)}<button type="submit" class="danger">${t('tokens.revoke')}</button></form>` : ''
          }</td></tr>`,
      )}</tbody></table></div>`
}
<form method="post" action="/tokens" class="card narrow add-token">
<h2>${t('tokens.create')}</h2>
${csrfField(context)}
${shown.problem === undefined ? '' : html`<p class="error" role="alert">${shown.problem}</p>`}
<label for="token-name">${t('tokens.name')}</label>
<input id="token-name" name="name" type="text" required value="${form.name}">
${roleScopeFields(context, 'token', form)}
<label class="check"><input type="checkbox" name="readOnly" value="yes"${form.readOnly === 'yes' ? html` checked` : ''}> ${t('tokens.readOnly')}</label>
<label for="token-expires">${t('tokens.expiresDays')}</label>
<input id="token-expires" name="expiresDays" type="text" inputmode="numeric" value="${form.expiresDays}">
<button type="submit">${t('tokens.create')}</button>
</form>`,
  );
}

function refusal(context: PageContext, err: unknown): string {
  if (err instanceof TokenError || err instanceof AccountError) return context.t('tokens.problem');
  throw err;
}

export function tokenPages(deps: Pick<RouteDeps, 'registry' | 'logger' | 'now'>): Route[] {
  const show: ProtectedRoute = {
    path: '/tokens',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const revoked = request.query.get('revoked');
      return htmlResponse(context, tokensPage(context, await listTokens(deps.registry), revoked === null ? {} : { notice: context.t('tokens.revokedNow', { token: revoked }) }));
    },
  };
  const create: ProtectedRoute = {
    method: 'POST',
    path: '/tokens',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const form = createForm.parse(request.body ?? {});
      const days = form.expiresDays.trim() === '' ? undefined : Number(form.expiresDays);
      try {
        const { token, info } = await createToken(deps.registry, { name: form.name, ...roleScopeInput(form), readOnly: form.readOnly === 'yes', expiresDays: days, createdBy: actorOf(request.principal) }, deps.now());
        recordFact(request, deps.logger, auditFacts.tokenCreated(info));
        return { ...htmlResponse(context, tokensPage(context, await listTokens(deps.registry), { created: token })), headers: noStore };
      } catch (err) {
        return htmlResponse(context, tokensPage(context, await listTokens(deps.registry), { form, problem: refusal(context, err) }));
      }
    },
  };
  const revoke: ProtectedRoute = {
    method: 'POST',
    path: '/tokens/{id}/revoke',
    access: admins,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const token = await revokeToken(deps.registry, request.params.id ?? '', deps.now());
      recordFact(request, deps.logger, auditFacts.tokenRevoked(token));
      return seeOther(`/tokens?revoked=${encodeURIComponent(token.tokenId)}`, context.langCookie);
    },
  };
  return [show, create, revoke];
}
