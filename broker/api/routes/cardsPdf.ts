import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { unitSchema } from '../../access/roles.js';
import { listScopeSchema } from '../../../protocol/lists/index.js';
import { sheetKinds } from '../../registry/sheetKinds.js';
import { openLiveCards } from '../../registry/cards.js';
import { parseQuery } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { selectionInScope } from './registryScope.js';

const pdfQuery = z.strictObject({
  unit: unitSchema.optional(),
  scope: listScopeSchema.optional(),
  sheet: z.enum(sheetKinds, { message: `expected one of ${sheetKinds.join(', ')}` }).default('cr80'),
});

/**
 * `GET /api/cards.pdf`: `qrgate cards print` as a download, painted while it is sent so
 * 100k cards never sit in memory. The live cards are read a page at a time from the API's
 * registry as the painting needs them (openLiveCards): no statement or transaction stays
 * open while a slow client downloads, so the registry stays free for other requests.
 * An empty selection is refused (404) before the first byte.
 */
export function cardsPdfRoute(deps: Pick<RouteDeps, 'registry' | 'logger'>): ProtectedRoute {
  const logger = deps.logger.child({ route: 'cards.pdf' });
  return {
    path: '/api/cards.pdf',
    readsQuery: true,
    access: only('admin', 'manager'),
    async handle({ query, principal }) {
      const { unit, scope, sheet } = parseQuery(query, pdfQuery);
      const { selection } = await selectionInScope(deps, principal, { unit, scope });
      const live = await openLiveCards(deps.registry, selection);
      const out = new PassThrough();
      // pdfkit, its fonts and the QR encoder load on the first PDF, not at the central's start.
      const { paintCardsPdf } = await import('../../registry/cardsPdf.js');
      paintCardsPdf(live.cards, sheet, out)
        .then(({ cards, pages }) => logger.info({ cards, pages, sheet }, 'api.cards-pdf-sent'))
        .catch((err: unknown) => {
          // Mid-stream there is no status left to change: the client sees a cut-off download.
          logger.warn({ err }, 'api.cards-pdf-aborted');
          out.destroy();
        })
        .finally(() => {
          void live.cards.return?.();
        });
      return {
        status: 200,
        stream: out,
        contentType: 'application/pdf',
        headers: { 'content-disposition': `attachment; filename="qrgate-cards-${sheet}.pdf"` },
      };
    },
  };
}
