import type { Logger } from '../../protocol/logger.js';
import type { CentralConfig } from '../config.js';
import type { CentralStore } from '../store/centralStore.js';
import { writeMosquittoConfig } from './mosquittoConfig.js';

/**
 * With `mosquitto.out` in the central config, Mosquitto's files follow a terminal change
 * made in the running central (the admin API, the console's fleet page) as they do after
 * the CLI's (docs/mosquitto.md). Logged, not thrown: the change itself is done.
 */
export async function rewriteMosquittoFiles(deps: { readonly config: CentralConfig; readonly store: CentralStore; readonly logger: Logger }): Promise<void> {
  const outDir = deps.config.mosquitto?.out;
  if (outDir === undefined) return;
  await writeMosquittoConfig({ store: deps.store, dataDir: deps.config.dataDir, outDir }).then(
    (result) => deps.logger.info({ outDir, terminals: result.terminals, needRotation: result.needRotation.length }, 'mosquitto.files-rewritten'),
    (err: unknown) => deps.logger.error({ err, outDir }, 'mosquitto.files-not-rewritten'),
  );
}
