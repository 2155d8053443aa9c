import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPLY_NICE_STEPS } from '../../../gateway/lists/applyWorker.js';
import { createListApplier, type ListApplier } from '../../../gateway/lists/listApplier.js';
import { generateKeyFiles } from '../../../protocol/keys.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

/** The nice value of each thread of this process, by thread id (Linux /proc). */
function threadNiceValues(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended while we looked
    }
    // Fields after the command name's closing parenthesis: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

/**
 * A scan waits for the CPU while a list applies, not for the apply's database
 * (docs/benchmarks.md): the apply worker gives way to the scan thread by running at a lower
 * CPU priority, and only it does.
 */
describe.runIf(process.platform === 'linux')('the list apply worker runs at a lower CPU priority than the scan thread', () => {
  const tempDir = useTempDir();
  const appliers: ListApplier[] = [];
  afterEach(async () => {
    for (const applier of appliers.splice(0)) await applier.close();
  });

  it('lowers its own thread only, by its steps from what the process runs at', async () => {
    const dir = tempDir();
    const keys = generateKeyFiles(join(dir, 'keys'));
    const applier = createListApplier({ dataDir: join(dir, 'data'), trustedKeyFiles: [keys.authorityPub], scopes: ['site-a'], powerLossSafe: false, logger: silentLogger() });
    appliers.push(applier);
    const mainNice = threadNiceValues().get(process.pid)!;
    const before = threadNiceValues();
    const file = writeList(join(dir, 'keys'), join(dir, 'list-1'), { scope: 'site-a', version: 1 }, [{ ref: sequentialRef(1), status: 'allow' }]);
    await expect(applier.apply({ file })).resolves.toMatchObject({ version: 1 });

    // The worker stays for its idle time: its thread is among this process's now.
    const lowered = [...threadNiceValues()].filter(([tid, nice]) => !before.has(tid) && nice !== mainNice);
    expect(lowered.map(([, nice]) => nice)).toEqual([Math.min(19, mainNice + APPLY_NICE_STEPS)]);
    // Every thread that was there before kept its priority, the scan thread first.
    for (const [tid, nice] of threadNiceValues()) if (before.has(tid)) expect(nice).toBe(before.get(tid));
  });
});
