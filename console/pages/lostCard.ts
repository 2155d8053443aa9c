import { z } from 'zod';
import { managesMember } from '../../broker/access/roles.js';
import { listScopesOf } from '../../broker/api/routes/lists.js';
import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { cardIdFromNumber, cardTail, CardsError, findCard, revokeCard } from '../../broker/registry/cards.js';
import { findMember, type RegistryMember } from '../../broker/registry/memberQueries.js';
import { cardRevoked } from '../../broker/registry/registryAudit.js';
import { groupCardNumber } from '../../protocol/credentials/card.js';
import { formatDateTime } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { csrfField, htmlResponse, pageContext, type PageContext } from '../pageContext.js';

/**
 * Report a lost card by its printed number (issue 14 page 6): the operator types the number
 * off the card's paper trail (the member's file, the cards list), sees whose card it is, confirms,
 * and the registry refuses the card at once through the same revokeCard as `qrgate cards revoke`
 * and POST /api/cards/revoke. Terminals learn it with the scope's next published list, so the
 * page says so and offers "publish now" (the lists page's own form). The number travels only in
 * POST bodies: it is a working credential until revoked, and never goes into a URL.
 */

const managers = only('admin', 'manager');
const form = z.object({ number: z.string().max(64).catch(''), confirm: z.string().max(8).optional().catch(undefined) });

type Step =
  | { readonly kind: 'ask'; readonly number?: string; readonly problem?: string }
  | { readonly kind: 'confirm'; readonly cardId: string; readonly member: RegistryMember }
  | { readonly kind: 'revoked'; readonly cardId: string; readonly member: RegistryMember; readonly publishable: boolean };

function memberFacts(context: PageContext, cardId: string, member: RegistryMember): Html {
  const { t } = context;
  return html`<dl class="facts">
  <div><dt>${t('member.name')}</dt><dd data-holder>${member.name}</dd></div>
  <div><dt>${t('member.idMasked')}</dt><dd class="code">${member.idMasked}</dd></div>
  <div><dt>${t('member.unit')}</dt><dd>${member.unit}</dd></div>
  <div><dt>${t('lostCard.cardNumber')}</dt><dd class="code">${groupCardNumber(cardId)}</dd></div>
</dl>`;
}

function stepBody(context: PageContext, step: Step): Html {
  const { t } = context;
  switch (step.kind) {
    case 'ask':
      return html`<form method="post" action="/members/lost-card" class="card narrow">
${csrfField(context)}
<p class="hint">${t('lostCard.hint')}</p>
<label for="card-number">${t('lostCard.cardNumber')}</label>
<input id="card-number" name="number" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" value="${step.number ?? ''}" required${
        step.problem === undefined ? '' : html` aria-invalid="true" aria-describedby="card-number-problem"`
      }>
${step.problem === undefined ? '' : html`<p class="problem" id="card-number-problem">${step.problem}</p>`}
<button type="submit">${t('lostCard.look')}</button>
</form>`;
    case 'confirm':
      return html`<section class="card narrow">
<h2>${t('lostCard.whose')}</h2>
${memberFacts(context, step.cardId, step.member)}
<form method="post" action="/members/lost-card">
${csrfField(context)}
<input type="hidden" name="number" value="${groupCardNumber(step.cardId)}">
<input type="hidden" name="confirm" value="yes">
<p class="hint">${t('lostCard.confirmHint')}</p>
<button type="submit" class="danger">${t('lostCard.revoke')}</button>
</form>
<p><a href="/members/lost-card">${t('lostCard.another')}</a></p>
</section>`;
    case 'revoked':
      return html`<p class="notice" role="status" data-revoked>${t('lostCard.revoked', { tail: cardTail(step.cardId), name: step.member.name })}</p>
<section class="card narrow">
${memberFacts(context, step.cardId, step.member)}
<p class="hint">${t('lostCard.terminalsLearn', { scope: step.member.scope })}</p>
${
  step.publishable
    ? html`<form method="post" action="/lists/${step.member.scope}/publish">
${csrfField(context)}
<button type="submit">${t('lostCard.publishNow', { scope: step.member.scope })}</button>
</form>`
    : html`<p class="hint">${t('lostCard.askPublish')}</p>`
}
<p><a href="/members/${step.member.ref}">${t('lostCard.toMember')}</a> · <a href="/members/lost-card">${t('lostCard.another')}</a></p>
</section>`;
  }
}

/** A number sent back with its problem is a 200 page, as every console form is: the person is shown what to fix. */
function page(context: PageContext, step: Step) {
  return htmlResponse(context, layout(context, { title: context.t('lostCard.title'), path: '/members' }, stepBody(context, step)));
}

export function lostCardPages(deps: Pick<RouteDeps, 'registry' | 'now'>): Route[] {
  const show: ProtectedRoute = {
    path: '/members/lost-card',
    access: managers,
    readsQuery: true,
    async handle(request) {
      return page(pageContext(request), { kind: 'ask' });
    },
  };
  const submit: ProtectedRoute = {
    method: 'POST',
    path: '/members/lost-card',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      const { t, lang } = context;
      const { number, confirm } = form.parse(request.body ?? {});
      const ask = (problem: string) => page(context, { kind: 'ask', number, problem });
      let cardId: string;
      let owner: Awaited<ReturnType<typeof findCard>>;
      try {
        cardId = cardIdFromNumber(number);
        owner = await findCard(deps.registry, cardId);
      } catch (err) {
        if (!(err instanceof CardsError)) throw err;
        return err.code === 'card-invalid' ? ask(t('lostCard.problem.invalid')) : ask(t('lostCard.problem.unknown'));
      }
      const member = await findMember(deps.registry, Buffer.from(owner.memberRef, 'hex'));
      // Another unit's card: the manager learns that much (so they send the person to the right office), never whose it is.
      if (member === null || !managesMember(request.principal, member)) return ask(t('lostCard.problem.otherUnit'));
      if (owner.revokedAt !== null) return ask(t('lostCard.problem.revoked', { at: formatDateTime(lang, owner.revokedAt) }));
      if (confirm !== 'yes') return page(context, { kind: 'confirm', cardId, member });
      request.audit(cardRevoked(await revokeCard(deps.registry, cardId, deps.now())));
      const scopes = await listScopesOf(deps.registry, request.principal);
      return page(context, { kind: 'revoked', cardId, member, publishable: scopes === undefined || scopes.includes(member.scope) });
    },
  };
  return [show, submit];
}
