import { memberViewFor } from '../../access/memberView.js';
import { photoOfCredential } from '../../registry/memberPhotos.js';
import type { ApiResponse } from '../http.js';
import { badRequest, forbidden, notFound } from '../http.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { pendingIdSchema, requireSees } from './pending.js';

/** A photo of a person; like every answer (send.ts), `no-store`: another user of the same browser finds no copy. */
export function photoResponse(jpeg: Buffer): ApiResponse {
  return { status: 200, stream: jpeg, contentType: 'image/jpeg' };
}

/**
 * `GET /api/pending/{id}/photo`: the photo of the person a scan waiting at a manual lane
 * belongs to, for the guard screen (issue 14 page 9), to whoever may answer that scan and see
 * the person's name there (memberView.ts: a guard, the person's manager, an admin; another
 * unit's manager sees no face). Only while the scan is pending: a photo is not a lookup service.
 */
export function pendingPhotoRoute(deps: Pick<RouteDeps, 'registry' | 'store' | 'pending'>): ProtectedRoute {
  return {
    path: '/api/pending/{id}/photo',
    access: only('admin', 'manager', 'guard'),
    async handle({ principal, params }) {
      const id = pendingIdSchema.safeParse(params.id);
      if (!id.success) throw badRequest(`id: ${id.error.issues[0]?.message ?? 'invalid'}`);
      const claim = deps.pending?.find(id.data);
      if (claim === undefined || !claim.ok) throw notFound(`no scan ${id.data} is pending`);
      await requireSees(deps.store, principal, claim.scan.checkpointCode);
      const ref = claim.scan.credentialRef;
      const member = ref === null ? undefined : (await deps.store.membersByRefs([ref])).get(ref);
      if (ref === null || member === undefined) throw notFound('nobody registered is behind this scan');
      const view = memberViewFor(principal, member);
      if (view === null || 'otherUnit' in view) throw forbidden('this person belongs to another unit than yours');
      const jpeg = await photoOfCredential(deps.registry, Buffer.from(ref, 'hex'));
      if (jpeg === null) throw notFound('this person has no photo');
      return photoResponse(jpeg);
    },
  };
}
