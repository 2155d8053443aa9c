import { loadCentralConfig, withCentralStore, type CentralConfig } from '../../broker/config.js';
import { writeMosquittoConfig, type MosquittoConfigResult } from '../../broker/mosquitto/mosquittoConfig.js';
import { parseOptions, requireOption, UsageError, type CliContext, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';

/**
 * `qrgate mosquitto-config`: Mosquitto's password file, ACL file and a mosquitto.conf
 * fragment for this central's terminals (broker/mosquitto, docs/mosquitto.md). `--out` may
 * be left to the central config's `mosquitto.out`, where `terminals add | remove |
 * rotate-secret` also rewrite the files after each change.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    out: { type: 'string' },
    'central-username': { type: 'string' },
    'new-central-password': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const outDir = values.out ?? config.mosquitto?.out;
  if (outDir === undefined) throw new UsageError('--out DIR is required (or "mosquitto": {"out": "DIR"} in the central config)');
  const result = await withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) =>
    writeMosquittoConfig({
      store,
      dataDir: config.dataDir,
      outDir,
      newCentralPassword: values['new-central-password'],
      ...(values['central-username'] === undefined ? {} : { centralUsername: values['central-username'] }),
    }),
  );
  ctx.stdout.write(values.json ? `${JSON.stringify(result)}\n` : describe(result).join('\n') + '\n');
  return 0;
};

function describe(result: MosquittoConfigResult): string[] {
  return [
    `mosquitto files written: ${result.terminals} terminal${result.terminals === 1 ? '' : 's'} and the central account "${result.centralUsername}"`,
    `  password file:  ${result.passwordFile}  (mode 0600)`,
    `  ACL file:       ${result.aclFile}`,
    `  conf fragment:  ${result.confFile}  (include it from mosquitto.conf)`,
    ...(result.centralPasswordFile === null
      ? []
      : [`new central password in ${result.centralPasswordFile} (mode 0600): give it to qrgate ingest as QRGATE_BROKER_PASSWORD with --username ${result.centralUsername}, then delete the file`]),
    ...reloadHint(result),
  ];
}

/** What the operator must do next: reload, and rotate the terminals Mosquitto will refuse. */
export function reloadHint(result: MosquittoConfigResult): string[] {
  return [
    ...(result.needRotation.length === 0
      ? []
      : [
          `NOT written, refused by Mosquitto until their secret is rotated (the central keeps no Mosquitto hash of the current one):`,
          `  ${result.needRotation.join(' ')}`,
          `  qrgate terminals rotate-secret --central-config F --terminal-id ID --config THAT-TERMINAL.json, for each`,
        ]),
    ...(result.anyScope.length === 0 ? [] : [`with any list scope (added before scopes were recorded; re-add them to narrow): ${result.anyScope.join(' ')}`]),
    'reload Mosquitto to apply: systemctl reload mosquitto (or kill -HUP its pid)',
  ];
}

/**
 * After `terminals add | remove | rotate-secret`: rewrites the files when the central config
 * names `mosquitto.out`, so a removed terminal's line is gone at the next reload. On stderr,
 * so `--json` output stays one object; the exit code says whether the files are current.
 */
export async function rewriteAfterChange(ctx: CliContext, config: CentralConfig): Promise<number> {
  const outDir = config.mosquitto?.out;
  if (outDir === undefined) return 0;
  try {
    const result = await withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => writeMosquittoConfig({ store, dataDir: config.dataDir, outDir }));
    ctx.stderr.write([`mosquitto files rewritten in ${outDir}`, ...reloadHint(result), ''].join('\n'));
    return 0;
  } catch (err) {
    ctx.stderr.write(`the Mosquitto files in ${outDir} could not be rewritten: ${(err as Error).message}\nrun: qrgate mosquitto-config --central-config ${config.file}\n`);
    return 1;
  }
}
