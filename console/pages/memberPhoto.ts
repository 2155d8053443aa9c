import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { memberInScope } from '../../broker/api/routes/registryScope.js';
import { notFound } from '../../broker/api/http.js';
import { photoResponse } from '../../broker/api/routes/memberPhotos.js';
import { maxPhotoUploadBytes, PhotoError, reencodePhoto } from '../../broker/registry/memberPhotoImage.js';
import { memberPhotoJpeg, removeMemberPhoto, setMemberPhoto, type PhotoInfo } from '../../broker/registry/memberPhotos.js';
import type { RegistryMember } from '../../broker/registry/memberQueries.js';
import { memberPhotoChanged } from '../../broker/registry/registryAudit.js';
import { html, type Html } from '../html.js';
import { csrfField, seeOther, type PageContext } from '../pageContext.js';

/**
 * A member's optional photo (issue 14 page 6), on the member's page: uploaded by whoever
 * manages the member, re-encoded by the central (memberPhotoImage.ts), kept only by it, and
 * served only to those who may see the member. client/members.ts posts the chosen file as it
 * is (image/jpeg or image/png); the answer is a redirect back to the member's page, with a
 * `photo=` problem when the file was refused.
 */

const managers = only('admin', 'manager');
export const photoProblems = ['photo-unreadable', 'photo-too-large'] as const;
const maxUploadMb = maxPhotoUploadBytes / 1024 / 1024;

/** The photo card of the member's page: the photo (or none), upload, remove. */
export function photoCard(context: PageContext, member: RegistryMember, photo: PhotoInfo | null, problem: string | null): Html {
  const { t } = context;
  const problemText = photoProblems.find((p) => p === problem);
  return html`<section class="card photo">
<h2>${t('memberPhoto.title')}</h2>
${
  photo === null
    ? html`<p class="hint" data-photo="none">${t('memberPhoto.none')}</p>`
    : html`<img class="member-photo" src="/members/${member.ref}/photo.jpg?v=${photo.updatedAtMs}" width="${photo.width}" height="${photo.height}" alt="${t('memberPhoto.alt', { name: member.name })}">`
}
<form id="photo-form" class="photo-form" data-ref="${member.ref}" data-csrf="${context.csrfToken ?? ''}" data-max-bytes="${maxPhotoUploadBytes}" data-t-too-large="${t('memberPhoto.problem.photo-too-large', { mb: maxUploadMb })}" data-t-failed="${t('memberPhoto.failed')}" data-t-working="${t('memberPhoto.working')}">
<label for="photo-file">${photo === null ? t('memberPhoto.choose') : t('memberPhoto.replace')}</label>
<input id="photo-file" name="photo" type="file" accept="image/jpeg,image/png" required${problemText === undefined ? '' : html` aria-invalid="true" aria-describedby="photo-problem"`}>
<p class="problem" id="photo-problem" role="alert"${problemText === undefined ? html` hidden` : ''}>${problemText === undefined ? '' : t(`memberPhoto.problem.${problemText}`, { mb: maxUploadMb })}</p>
<p class="hint">${t('memberPhoto.hint', { mb: maxUploadMb })}</p>
<button type="submit">${t('memberPhoto.upload')}</button>
</form>
${
  photo === null
    ? ''
    : html`<form method="post" action="/members/${member.ref}/photo/remove">
${csrfField(context)}
<button type="submit" class="link">${t('memberPhoto.remove')}</button>
</form>`
}
</section>`;
}

export function memberPhotoPages(deps: Pick<RouteDeps, 'registry' | 'now'>): Route[] {
  const back = (ref: string, query: string) => seeOther(`/members/${ref}?${query}`);
  const upload: ProtectedRoute = {
    method: 'POST',
    path: '/members/{ref}/photo',
    access: managers,
    readsQuery: true,
    // Room for the multipart-free file itself; fastify refuses more with 413 before reading it all.
    bodyLimit: maxPhotoUploadBytes,
    async handle(request) {
      const member = await memberInScope(deps.registry, request.principal, request.params.ref!);
      if (!Buffer.isBuffer(request.body)) return back(member.ref, 'photo=photo-unreadable');
      let photo;
      try {
        photo = reencodePhoto(request.body);
      } catch (err) {
        if (err instanceof PhotoError) return back(member.ref, `photo=${err.code}`);
        throw err;
      }
      await setMemberPhoto(deps.registry, Buffer.from(member.ref, 'hex'), photo, deps.now());
      request.audit(memberPhotoChanged(member.idMasked, 'member.photo', photo));
      return back(member.ref, 'done=photo');
    },
  };
  const remove: ProtectedRoute = {
    method: 'POST',
    path: '/members/{ref}/photo/remove',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const member = await memberInScope(deps.registry, request.principal, request.params.ref!);
      if (await removeMemberPhoto(deps.registry, Buffer.from(member.ref, 'hex'))) request.audit(memberPhotoChanged(member.idMasked, 'member.photo-remove'));
      return back(member.ref, 'done=photo-removed');
    },
  };
  const show: ProtectedRoute = {
    path: '/members/{ref}/photo.jpg',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const member = await memberInScope(deps.registry, request.principal, request.params.ref!);
      const jpeg = await memberPhotoJpeg(deps.registry, Buffer.from(member.ref, 'hex'));
      if (jpeg === null) throw notFound('this member has no photo');
      return photoResponse(jpeg);
    },
  };
  return [upload, remove, show];
}
