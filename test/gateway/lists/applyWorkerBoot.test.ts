import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateKeyFiles } from '../../../protocol/keys.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The way bin/qrgate.js runs the sources: tsx registered in the main thread only, which in
 * Node 20 a worker thread does not inherit. (The vitest runner is covered by
 * listApplier.test.ts; the compiled build by `node dist/cli/main.js`, see docs.)
 */
const underTsx = `
import { register } from 'tsx/esm/api';
register();
const { createListApplier } = await import('./gateway/lists/listApplier.ts');
const { pino } = await import('pino');
const { dataDir, pub, file } = JSON.parse(process.env.APPLY_ARGS);
const applier = createListApplier({
  dataDir, trustedKeyFiles: [pub], scopes: ['site-a'], powerLossSafe: false, logger: pino({ level: 'silent' }),
});
try {
  process.stdout.write(JSON.stringify(await applier.apply({ file })));
} finally {
  await applier.close();
}
`;

describe('the apply worker bootstrap', () => {
  const tempDir = useTempDir();

  it('starts the worker from the TypeScript sources when tsx is registered in the main thread only', async () => {
    const dir = tempDir();
    const keys = generateKeyFiles(join(dir, 'keys'));
    const file = writeList(join(dir, 'keys'), join(dir, 'v1'), { version: 1, scope: 'site-a' }, [
      { ref: sequentialRef(1), status: 'allow' },
    ]);
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', underTsx], {
      cwd: repoRoot,
      env: { ...process.env, APPLY_ARGS: JSON.stringify({ dataDir: join(dir, 'data'), pub: keys.authorityPub, file }) },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({ scope: 'site-a', version: 1, kind: 'snapshot', entries: 1, changed: true });
  });
});
