import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { unitSchema } from '../../access/roles.js';
import { listScopeSchema } from '../../../protocol/lists/index.js';
import { sheetKinds } from '../../registry/sheetKinds.js';
import { openLiveCards } from '../../registry/cards.js';
import { openRegistryDb } from '../../registry/registryDb.js';
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
 * 100k cards never sit in memory. The live cards are read lazily on a connection of the
 * route's own (a statement being iterated keeps its connection busy, and the API's shared
 * one must stay free for other requests), closed when the PDF ends or the client leaves.
 * An empty selection is refused (404) before the first byte.
 */
export function cardsPdfRoute(deps: Pick<RouteDeps, 'db' | 'config' | 'logger'>): ProtectedRoute {
  const logger = deps.logger.child({ route: 'cards.pdf' });
  return {
    path: '/api/cards.pdf',
    readsQuery: true,
    access: only('admin', 'manager'),
    async handle({ query, principal }) {
      const { unit, scope, sheet } = parseQuery(query, pdfQuery);
      const { selection } = selectionInScope(deps, principal, { unit, scope });
      const db = openRegistryDb(deps.config);
      let live: ReturnType<typeof openLiveCards>;
      try {
        live = openLiveCards(db, selection);
      } catch (err) {
        db.close();
        throw err;
      }
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
          live.cards.return?.();
          db.close();
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
