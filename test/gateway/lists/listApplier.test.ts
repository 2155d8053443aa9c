import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ListCache } from '../../../gateway/listCache.js';
import { createListApplier, type ListApplier } from '../../../gateway/lists/listApplier.js';
import { listsDbPath } from '../../../gateway/lists/listsDb.js';
import { generateKeyFiles } from '../../../protocol/keys.js';
import { sha256Hex, type ListEntry, type ListStatus } from '../../../protocol/lists/index.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { bulkEntries } from '../../helpers/propertyRuns.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';

/** The snapshot the scan-consistency test applies (a tenth under mutation testing). */
const BULK = bulkEntries(200_000);
/** Long enough for the apply's write transaction to be caught open and the worker killed in it. */
const LONG_APPLY = 200_000;
/** In every version; its status tells the versions apart. */
const common = sequentialRef(0, 7);
/** Only in version 1. */
const onlyV1 = sequentialRef(1, 7);
/** Only in version 2 and later. */
const onlyV2 = sequentialRef(2, 7);

function* bulk(run: number, status: ListStatus, count = BULK): Generator<ListEntry> {
  for (let n = 0; n < count; n++) yield { ref: sequentialRef(n, run), status };
}

describe('the list applier (worker thread)', () => {
  const tempDir = useTempDir();
  const closing: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  function setUp(idleMs?: number) {
    const dir = tempDir();
    const keys = generateKeyFiles(join(dir, 'keys'));
    const dataDir = join(dir, 'data');
    const log = captureLogger();
    const workers: Worker[] = [];
    /** Each worker's thread id as it started (a worker that has exited reads -1). */
    const threadIds: number[] = [];
    /** What onRunning was told, in order: the terminal's "second heap held" signal. */
    const running: boolean[] = [];
    const applier: ListApplier = createListApplier({
      dataDir,
      trustedKeyFiles: [keys.authorityPub],
      scopes: ['site-a'],
      powerLossSafe: false,
      logger: log.logger,
      onWorker: (worker) => {
        workers.push(worker);
        threadIds.push(worker.threadId);
      },
      onRunning: (state) => running.push(state),
      ...(idleMs === undefined ? {} : { idleMs }),
    });
    const cache = new ListCache(dataDir);
    closing.push(
      () => applier.close(),
      () => cache.close(),
    );
    let files = 0;
    const write = (header: Parameters<typeof writeList>[2], entries: Iterable<ListEntry>) =>
      writeList(join(dir, 'keys'), join(dir, `list-${++files}`), { scope: 'site-a', ...header }, entries);
    const expected = (file: string, version: number, resultCount: number) => ({
      sha256: sha256Hex(readFileSync(file)),
      version,
      resultCount,
    });
    const seen = (ref: Buffer) => cache.lookup(ref).map((e) => `${e.listVersion}:${e.status}`);
    return { dataDir, applier, cache, workers, threadIds, running, log, write, expected, seen };
  }

  it('verifies and installs files one at a time, and rejects with the code of what is wrong', async () => {
    const { applier, write, expected, seen, workers } = setUp();
    const v1 = write({ version: 1 }, [{ ref: common, status: 'allow' }]);
    const v2 = write({ version: 2, kind: 'delta', baseVersion: 1 }, [{ ref: common, status: 'deny' }, { ref: onlyV2, status: 'allow' }]);
    // queued back to back: the delta runs after the snapshot it needs
    const [first, second] = await Promise.all([
      applier.apply({ file: v1, expected: expected(v1, 1, 1) }),
      applier.apply({ file: v2, expected: expected(v2, 2, 2) }),
    ]);
    expect(first).toMatchObject({ scope: 'site-a', version: 1, previousVersion: null, kind: 'snapshot', entries: 1, changed: true });
    expect(workers).toHaveLength(1);
    expect(second).toMatchObject({ version: 2, previousVersion: 1, kind: 'delta', entries: 2, changed: true });
    expect(second.applyMs).toBeGreaterThan(0);
    expect([seen(common), seen(onlyV2)]).toEqual([['2:deny'], ['2:allow']]);

    await expect(applier.apply({ file: v2 })).resolves.toMatchObject({ changed: false });
    await expect(applier.apply({ file: v1 })).rejects.toMatchObject({ name: 'ListApplyError', code: 'rollback' });
    await expect(applier.apply({ file: v2, expected: { ...expected(v2, 2, 2), sha256: '00'.repeat(32) } })).rejects.toMatchObject({
      code: 'hash-mismatch',
    });
    const v3 = write({ version: 3, kind: 'delta', baseVersion: 2 }, [{ ref: onlyV1, status: 'allow' }]);
    await expect(applier.apply({ file: v3, expected: expected(v3, 3, 2) })).rejects.toMatchObject({ code: 'count-mismatch' });
    await expect(applier.apply({ file: `${v3}.missing` })).rejects.toMatchObject({ code: 'io' });
    expect([seen(common), seen(onlyV1)]).toEqual([['2:deny'], []]);
  });

  it('keeps the scan thread answering, old list or new and never a mix, while it applies a 200k-entry snapshot and a 20k delta', async () => {
    // (20k and 2k under mutation testing: the property holds at any size.)
    const { applier, write, seen, cache } = setUp();
    const v1 = write({ version: 1 }, [...bulk(1, 'allow'), { ref: common, status: 'allow' }, { ref: onlyV1, status: 'allow' }]);
    const v2 = write({ version: 2 }, [...bulk(2, 'deny'), { ref: common, status: 'deny' }, { ref: onlyV2, status: 'deny' }]);
    const v3 = write({ version: 3, kind: 'delta', baseVersion: 2 }, [...bulk(2, 'allow', BULK / 10), { ref: common, status: 'check' }]);
    await applier.apply({ file: v1 });

    // What a scan may see of `common`, by version; anything else is a mix or a half state.
    const consistent = new Set(['1:allow', '2:deny', '3:check']);
    const violations: string[] = [];
    const seenVersions = new Set<string>();
    let lookups = 0;
    const timer = setInterval(() => {
      const commonSeen = seen(common);
      const v1Seen = seen(onlyV1);
      const v2Seen = seen(onlyV2);
      lookups++;
      if (commonSeen.length !== 1 || !consistent.has(commonSeen[0]!)) violations.push(`common ${commonSeen.join()}`);
      else seenVersions.add(commonSeen[0]!);
      if (v1Seen.some((s) => s !== '1:allow')) violations.push(`v1-only ${v1Seen.join()}`);
      if (v2Seen.some((s) => s !== '2:deny' && s !== '3:deny')) violations.push(`v2-only ${v2Seen.join()}`);
    }, 1);
    let lookupsDuringSnapshot: number;
    try {
      const lookupsBefore = lookups;
      const snapshot = await applier.apply({ file: v2 });
      lookupsDuringSnapshot = lookups - lookupsBefore;
      expect(snapshot).toMatchObject({ version: 2, entries: BULK + 2 });
      await waitFor(() => seenVersions.has('2:deny'), 10_000, 'a scan on version 2');
      expect(await applier.apply({ file: v3 })).toMatchObject({ version: 3, kind: 'delta', entries: BULK + 2 });
      await waitFor(() => seenVersions.has('3:check'), 10_000, 'a scan on version 3');
    } finally {
      clearInterval(timer);
    }

    expect(violations).toEqual([]);
    expect(seenVersions).toEqual(new Set(['1:allow', '2:deny', '3:check']));
    // The apply runs on another thread: scans were answered while it ran. How fast they were
    // answered is a speed, measured by `bench lists` (scan p99 during a full apply), not here.
    expect(lookupsDuringSnapshot).toBeGreaterThan(0);
    expect([seen(common), seen(onlyV2), seen(sequentialRef(5, 2)), seen(sequentialRef(BULK - 1, 2))]).toEqual([
      ['3:check'],
      ['3:deny'],
      ['3:allow'],
      ['3:deny'],
    ]);
    expect(cache.installed().get('site-a')).toMatchObject({ version: 3, entryCount: BULK + 2 });
  });

  it('rejects with io when its worker dies mid-apply, keeps the installed list, and applies again with a new worker', async () => {
    const { dataDir, applier, workers, running, log, write, seen } = setUp();
    await applier.apply({ file: write({ version: 1 }, [{ ref: common, status: 'allow' }]) });
    const big = write({ version: 2 }, [...bulk(2, 'deny', LONG_APPLY), { ref: common, status: 'deny' }]);

    // Another writer's view: the apply's write transaction is open while this is refused.
    const probe = new Database(listsDbPath(dataDir));
    closing.push(() => probe.close());
    probe.pragma('busy_timeout = 0');
    const writeLocked = () => {
      try {
        probe.exec('BEGIN IMMEDIATE; ROLLBACK');
        return false;
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_BUSY') return true;
        throw err;
      }
    };

    const applying = applier.apply({ file: big });
    const failed = expect(applying).rejects.toMatchObject({ name: 'ListApplyError', code: 'io' });
    await waitFor(writeLocked, 20_000, 'the snapshot transaction', 2);
    await workers[0]!.terminate();
    await failed;
    expect(log.messages('lists.apply-worker-exited')).toHaveLength(1);
    expect(running).toEqual([true, false]);
    expect(seen(common)).toEqual(['1:allow']);

    // The dead worker's transaction rolled back and its lock went with it.
    const next = write({ version: 3 }, [{ ref: common, status: 'check' }]);
    await expect(applier.apply({ file: next })).resolves.toMatchObject({ version: 3, previousVersion: 1, entries: 1 });
    expect(workers).toHaveLength(2);
    expect(seen(common)).toEqual(['3:check']);
  });

  it('refuses work once closed, and rejects what was still queued', async () => {
    const { applier, write } = setUp();
    const v1 = write({ version: 1 }, bulk(1, 'allow', 1000));
    const queued = [applier.apply({ file: v1 }), applier.apply({ file: v1 })];
    const settled = Promise.allSettled(queued);
    await applier.close();
    expect((await settled).map((s) => (s.status === 'rejected' ? (s.reason as { code: string; message: string }) : s.status))).toEqual([
      expect.objectContaining({ code: 'io', message: expect.stringContaining('closed before the list was applied') }),
      expect.objectContaining({ code: 'io', message: expect.stringContaining('closed before the list was applied') }),
    ]);
    await expect(applier.apply({ file: v1 })).rejects.toMatchObject({ code: 'io', message: expect.stringContaining('applier is closed') });
  });

  it('tells when its worker runs: started on the first apply, gone once closed, never for an applier that did no work', async () => {
    const idle = setUp();
    await idle.applier.close();
    expect(idle.running).toEqual([]);

    const { applier, write, running, log } = setUp();
    await applier.apply({ file: write({ version: 1 }, [{ ref: common, status: 'allow' }]) });
    expect(running).toEqual([true]);
    await applier.close();
    expect(running).toEqual([true, false]);
    // Stopped on purpose: no warning for the operator.
    expect(log.messages('lists.apply-worker-exited')).toEqual([]);
  });

  it('keeps one worker for lists that come one after another', async () => {
    const { applier, write, workers, running } = setUp();
    const v1 = write({ version: 1 }, [{ ref: common, status: 'allow' }]);
    const v2 = write({ version: 2 }, [{ ref: common, status: 'deny' }]);
    await applier.apply({ file: v1 });
    // Longer than a mistaken idle time of "none", far shorter than the default 30 s: the
    // worker that did v1 is the one that does v2.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(applier.apply({ file: v2 })).resolves.toMatchObject({ version: 2, previousVersion: 1 });
    expect(workers).toHaveLength(1);
    expect(running).toEqual([true]);
  });

  it('works without the worker callbacks, as the terminal may start it: applies, stops when idle, starts again', async () => {
    const dir = tempDir();
    const keys = generateKeyFiles(join(dir, 'keys'));
    const log = captureLogger();
    const applier = createListApplier({ dataDir: join(dir, 'data'), trustedKeyFiles: [keys.authorityPub], scopes: ['site-a'], powerLossSafe: false, logger: log.logger, idleMs: 20 });
    closing.push(() => applier.close());
    const file = writeList(join(dir, 'keys'), join(dir, 'list-1'), { scope: 'site-a', version: 1 }, [{ ref: common, status: 'allow' }]);
    await expect(applier.apply({ file })).resolves.toMatchObject({ version: 1, changed: true });
    // Once the first worker has stopped idle, the next apply starts a second one.
    await waitFor(
      async () => {
        await expect(applier.apply({ file })).resolves.toMatchObject({ version: 1, changed: false });
        return log.messages('lists.apply-worker-started').length === 2;
      },
      10_000,
      'a second worker after the idle stop',
      30,
    );
    await applier.close();
    expect(log.messages('lists.apply-worker-exited')).toEqual([]);
  });

  it('replaces a worker that died while idle, with one warning and no list refused', async () => {
    const { applier, write, workers, threadIds, running, log, seen } = setUp();
    await applier.apply({ file: write({ version: 1 }, [{ ref: common, status: 'allow' }]) });
    await workers[0]!.terminate();
    await waitFor(() => running.length === 2, 10_000, 'the dead worker noticed');
    expect(running).toEqual([true, false]);
    const [exited] = log.messages('lists.apply-worker-exited');
    expect(exited).toEqual(expect.objectContaining({ level: 40, exitCode: expect.any(Number) }));
    // Stopped from outside, not by an error: the line has no err field, not an empty one.
    expect(exited).not.toHaveProperty('err');
    await expect(applier.apply({ file: write({ version: 2 }, [{ ref: common, status: 'deny' }]) })).resolves.toMatchObject({ version: 2, previousVersion: 1 });
    expect(workers).toHaveLength(2);
    expect(running).toEqual([true, false, true]);
    // Which thread is which, for a technician reading a debug log of a worker that died.
    expect(log.messages('lists.apply-worker-started').map((line) => line.threadId)).toEqual(threadIds);
    expect(seen(common)).toEqual(['2:deny']);
  });

  it('still installs the list queued behind one whose worker died, and says why the first was not applied', async () => {
    const { applier, write, workers, seen } = setUp();
    const v1 = write({ version: 1 }, [{ ref: common, status: 'allow' }]);
    const v2 = write({ version: 2 }, [{ ref: common, status: 'deny' }]);
    const first = applier.apply({ file: v1 });
    const second = applier.apply({ file: v2 });
    const firstFailed = expect(first).rejects.toMatchObject({
      code: 'io',
      message: expect.stringMatching(/^the list apply worker stopped before it answered \(exit code \d+\); the next sync checks/),
    });
    // Started on the first apply, synchronously: killed before it could answer.
    await workers[0]!.terminate();
    await firstFailed;
    await expect(second).resolves.toMatchObject({ version: 2, previousVersion: null });
    expect(workers).toHaveLength(2);
    expect(seen(common)).toEqual(['2:deny']);
  });

  it('keeps an idle worker for the whole idle time after the last list, not after the first', async () => {
    // A delta that comes soon after a snapshot restarts the idle time; the worker is not
    // stopped on the snapshot's schedule. Timers never fire early, so the bound below holds
    // on a loaded machine; the snapshot's old schedule would stop it ~300 ms after the delta.
    const { applier, write, running } = setUp(1_000);
    await applier.apply({ file: write({ version: 1 }, [{ ref: common, status: 'allow' }]) });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await applier.apply({ file: write({ version: 2 }, [{ ref: common, status: 'deny' }]) });
    const lastDoneMs = performance.now();
    await waitFor(() => running.length === 2, 10_000, 'the idle worker to stop');
    expect(running).toEqual([true, false]);
    expect(performance.now() - lastDoneMs).toBeGreaterThanOrEqual(850);
  });

  it('stops its worker once idle, and starts a new one for the next list', async () => {
    const { applier, write, workers, running, seen, log } = setUp(50);
    await applier.apply({ file: write({ version: 1 }, [{ ref: common, status: 'allow' }]) });
    await waitFor(() => running.length === 2, 10_000, 'the idle worker to stop');
    expect(running).toEqual([true, false]);
    expect(log.messages('lists.apply-worker-exited')).toEqual([]);
    await expect(applier.apply({ file: write({ version: 2 }, [{ ref: common, status: 'deny' }]) })).resolves.toMatchObject({ version: 2, previousVersion: 1 });
    expect(workers).toHaveLength(2);
    expect(running.slice(0, 3)).toEqual([true, false, true]);
    expect(seen(common)).toEqual(['2:deny']);
  });
});
