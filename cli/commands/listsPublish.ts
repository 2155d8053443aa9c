import { loadCentralConfig } from '../../broker/config.js';
import { publishList } from '../../broker/lists/publish.js';
import { recordCliAudit } from '../../broker/access/audit.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { listPublished } from '../../broker/registry/registryAudit.js';
import { loadAuthorityPrivateKey } from '../../protocol/keys.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';

/**
 * `qrgate lists publish`: the next signed version of a scope's list from the registry, its
 * delta from the previous one and the manifest (broker/lists/publish.ts). A running central
 * sees the new manifest within a second or two and puts it on MQTT for the terminals.
 * Errors carry a code and reach the operator through cli/main.ts.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    scope: { type: 'string' },
    'expires-in-days': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const days = values['expires-in-days'];
  if (days !== undefined && !/^\d+(\.\d+)?$/.test(days)) throw new UsageError(`--expires-in-days must be a number, got "${days}"`);
  const scope = requireOption(values, 'scope');
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  // The key first: a wrong path fails before a million rows are read.
  const privateKey = loadAuthorityPrivateKey(config.keys.authorityKey);
  const result = await withRegistry(config, (db) =>
    publishList(db, { dataDir: config.dataDir, scope, privateKey, ...(days === undefined ? {} : { expiresInDays: Number(days) }) }),
  );
  // Recorded once the version is, as cli/audited.ts does.
  await withRegistry(config, (db) => recordCliAudit(db, listPublished(result)));
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const delta =
    result.previousSnapshotUnreadable !== undefined
      ? `no delta (the previous snapshot could not be read back: ${result.previousSnapshotUnreadable}; terminals take the snapshot)`
      : result.deltaBytes === null
        ? 'no delta (first version)'
        : `delta ${result.deltaBytes} bytes`;
  ctx.stdout.write(
    `list "${result.scope}" version ${result.version} published: ${result.count} entries ` +
      `(+${result.added} added, ${result.changed} changed, -${result.removed} removed), ` +
      `snapshot ${result.snapshotBytes} bytes, ${delta}, built and signed in ${result.buildSignMs} ms; ` +
      `terminals can take ${result.chain.length} delta(s) instead of the snapshot; expires ${result.expiresAt}\n`,
  );
  return 0;
};
