import { z } from 'zod';
import { makeEnrollmentQrImage } from '../../enrollment/enrollmentQr.js';
import { rewriteMosquittoFiles } from '../../mosquitto/followChanges.js';
import { removeTerminal, rotateTerminalSecret } from '../../registry/terminalLifecycle.js';
import { auditFacts } from '../../access/auditFacts.js';
import { noParameters, parseBody } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { noStore, recordFact } from './auditFact.js';

/**
 * Admin-only terminal lifecycle, the CLI's `terminals remove | rotate-secret | enroll-qr`
 * (broker/registry/terminalLifecycle.ts, broker/enrollment/enrollmentQr.ts). `terminals add` stays on the CLI:
 * it writes a config file and key files for a technician to carry, which an HTTP answer
 * would only hand to a browser's download folder; the enrollment QR is the remote way in.
 * A running central cuts a removed or re-keyed terminal off within about two seconds.
 */

const enrollSchema = z.strictObject({
  checkpoint: z.string(),
  url: z.string(),
  lists: z.array(z.string()).min(1).max(50).optional(),
  ttlS: z.number().int().optional(),
  format: z.enum(['png', 'svg'], { message: 'expected png or svg' }),
});

export function terminalChangeRoutes(deps: Pick<RouteDeps, 'config' | 'store' | 'logger' | 'now'>): ProtectedRoute[] {
  const access = only('admin');
  return [
    {
      method: 'DELETE',
      path: '/api/terminals/{id}',
      access,
      async handle(request) {
        const terminalId = await removeTerminal(deps.store, request.params.id ?? '');
        recordFact(request, deps.logger, auditFacts.terminalRemoved(terminalId));
        await rewriteMosquittoFiles(deps);
        return { status: 200, json: { terminalId, removed: true } };
      },
    },
    {
      method: 'POST',
      path: '/api/terminals/{id}/rotate-secret',
      access,
      bodyLimit: 1024,
      async handle(request) {
        parseBody(request.body, noParameters);
        const rotated = await rotateTerminalSecret(deps.store, request.params.id ?? '', { dataDir: deps.config.dataDir });
        recordFact(request, deps.logger, auditFacts.secretRotated(rotated.terminalId, false));
        await rewriteMosquittoFiles(deps);
        // `password`, as in the terminal config's `central.password` and `rotate-secret --json`.
        return { status: 200, json: { terminalId: rotated.terminalId, password: rotated.secret }, headers: noStore };
      },
    },
    {
      method: 'POST',
      path: '/api/terminals/enroll-qr',
      access,
      bodyLimit: 16 * 1024,
      async handle(request) {
        const input = parseBody(request.body, enrollSchema);
        const made = await makeEnrollmentQrImage({
          config: deps.config,
          store: deps.store,
          checkpointCode: input.checkpoint,
          url: input.url,
          format: input.format,
          nowMs: deps.now,
          inputNames: { url: 'url:', lists: 'lists:', ttl: 'ttlS:' },
          ...(input.lists === undefined ? {} : { lists: input.lists }),
          ...(input.ttlS === undefined ? {} : { ttlS: input.ttlS }),
        });
        recordFact(request, deps.logger, auditFacts.enrollQrMade(made));
        const image = typeof made.image === 'string' ? made.image : made.image.toString('base64');
        return { status: 201, json: { payload: made.payload, checkpoint: made.checkpointCode, lists: made.lists, expiresAt: made.expiresAt, format: made.format, image }, headers: noStore };
      },
    },
  ];
}
