import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { addTerminal, realHardwareHint } from '../../provisioning/terminals.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';
import { rewriteAfterChange } from './mosquittoConfig.js';

/**
 * `qrgate terminals add`. The terminal's secret is written to the config file only and
 * never printed: this output ends up in shell history, tickets and chat.
 */
export const run: Command = async (ctx) => {
  const { values, positionals } = parseOptions(
    ctx.argv,
    {
      'central-config': { type: 'string' },
      checkpoint: { type: 'string' },
      url: { type: 'string' },
      out: { type: 'string' },
      'terminal-id': { type: 'string' },
      lists: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'add')) {
    throw new UsageError(`unknown terminals sub-command "${positionals.join(' ')}"`);
  }
  const checkpointCode = requireOption(values, 'checkpoint');
  const url = requireOption(values, 'url');
  const outFile = requireOption(values, 'out');
  const terminalId = values['terminal-id'];
  // Scope names are checked with the rest of the config the command writes (terminalConfigSchema).
  const lists = values.lists?.split(',').map((scope) => scope.trim());
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const added = await audited(
    config,
    () =>
      withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) =>
        addTerminal({ config, store, checkpointCode, url, outFile, ...(terminalId === undefined ? {} : { terminalId }), ...(lists === undefined ? {} : { lists }) }),
      ),
    (terminal) => auditFacts.terminalAdded(terminal.terminalId, terminal.checkpoint.code),
  );
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ terminalId: added.terminalId, config: added.configFile })}\n`
      : [
          `terminal ${added.terminalId} added to checkpoint ${added.checkpoint.code} ("${added.checkpoint.name}")`,
          `config:  ${added.configFile}  (mode 0600: it holds the terminal's secret; copy it to the terminal, then delete it here)`,
          `keys:    ${added.keyFiles.authorityPub}, ${added.keyFiles.refKey}`,
          ...realHardwareHint.map((line, i) => `${i === 0 ? 'lane:   ' : '        '} ${line}`),
          '',
        ].join('\n'),
  );
  return rewriteAfterChange(ctx, config);
};
