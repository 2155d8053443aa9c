import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { defaultEnrollTtlS, makeEnrollmentQr } from '../../broker/enrollment/enrollmentQr.js';
import { audited } from '../audited.js';
import { countOption, parseOptions, requireOption, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';

/**
 * `qrgate terminals enroll-qr`. The QR text is printed only with `--json` (scripts and
 * tests need it); otherwise it stays in the image, which is as secret as a password until
 * it is used or expires.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    checkpoint: { type: 'string' },
    url: { type: 'string' },
    out: { type: 'string' },
    lists: { type: 'string' },
    ttl: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const checkpointCode = requireOption(values, 'checkpoint');
  const url = requireOption(values, 'url');
  const outFile = requireOption(values, 'out');
  const ttlS = countOption(values.ttl, 'ttl', defaultEnrollTtlS);
  const lists = values.lists?.split(',').map((scope) => scope.trim());
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const made = await audited(
    config,
    () =>
      withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) =>
        makeEnrollmentQr({ config, store, checkpointCode, url, outFile, ttlS, ...(lists === undefined ? {} : { lists }) }),
      ),
    auditFacts.enrollQrMade,
  );
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ payload: made.payload, file: made.file, checkpoint: made.checkpointCode, expiresAt: made.expiresAt })}\n`
      : [
          `enrollment QR for checkpoint ${made.checkpointCode}: ${made.file}`,
          `valid until ${made.expiresAt}, for one terminal only. Start the fresh terminal with`,
          '  qrgate terminal --enroll --config hw.json',
          'and show it this QR. Delete the image once it is used.',
          '',
        ].join('\n'),
  );
  return 0;
};
