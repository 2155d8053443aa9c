import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { rotateTerminalSecret } from '../../broker/registry/terminalLifecycle.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';
import { rewriteAfterChange } from './mosquittoConfig.js';

/**
 * `qrgate terminals rotate-secret`. The old secret is refused from now on and a running
 * central disconnects the terminal within about two seconds, so the terminal needs the
 * new secret in its config's `central.password`:
 * - with `--config` (the technician's copy of that terminal's config, lanes and all) the
 *   secret is written there only (mode 0600) and never printed, as `terminals add` does;
 * - without it the secret is printed once, with the field to change: it is stored
 *   nowhere else, so a lost one means rotating again.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    'terminal-id': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const terminalId = requireOption(values, 'terminal-id');
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const rotated = await audited(
    config,
    () => withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => rotateTerminalSecret(store, terminalId, { dataDir: config.dataDir, ...(values.config === undefined ? {} : { configFile: values.config }) })),
    (done) => auditFacts.secretRotated(done.terminalId, done.configFile !== null),
  );
  if (values.json) {
    const answer = rotated.configFile === null ? { terminalId: rotated.terminalId, password: rotated.secret } : { terminalId: rotated.terminalId, config: rotated.configFile };
    ctx.stdout.write(`${JSON.stringify(answer)}\n`);
    return rewriteAfterChange(ctx, config);
  }
  const change =
    rotated.configFile === null
      ? [
          'new secret, shown this once and stored nowhere (the central keeps only its hash):',
          `  ${rotated.secret}`,
          `on the terminal, set "central.password" in its config to it, then restart it (qrgate terminal --config F)`,
        ]
      : [`config:  ${rotated.configFile}  (its "central.password" now holds the new secret; copy it to the terminal, then restart it)`];
  ctx.stdout.write(
    [
      `terminal ${rotated.terminalId}: secret rotated; the old one is refused from now on and a running central disconnects it`,
      ...change,
      '',
    ].join('\n'),
  );
  return rewriteAfterChange(ctx, config);
};
