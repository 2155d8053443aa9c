import { describe, expect, it } from 'vitest';
import { Poller } from '../../broker/poller.js';
import { timerSlackMs } from '../helpers/timerSlack.js';
import { waitFor } from '../helpers/waitFor.js';

describe('Poller', () => {
  it('with maxShare, spaces passes so they take at most that share of the time', async () => {
    const starts: number[] = [];
    const passMs = 40;
    const poller = new Poller(
      async () => {
        starts.push(performance.now());
        await new Promise((resolve) => setTimeout(resolve, passMs));
      },
      5,
      { maxShare: 0.2 },
    );
    poller.start();
    try {
      await waitFor(() => starts.length >= 4, 20_000, 'four passes');
    } finally {
      await poller.stop();
    }
    // Each pass took at least 40 ms, so the next starts at least 40 / 0.2 = 200 ms after it did
    // (less the timers' slack, test/helpers/timerSlack.ts; a loaded machine only makes gaps longer).
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(passMs / 0.2 - timerSlackMs);
  });

  it('without maxShare, runs a pass every interval, never two at once', async () => {
    let running = 0;
    let overlapped = false;
    let passes = 0;
    const poller = new Poller(async () => {
      overlapped ||= running > 0;
      running++;
      passes++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
    }, 5);
    poller.start();
    try {
      await waitFor(() => passes >= 4, 20_000, 'four passes');
    } finally {
      await poller.stop();
    }
    expect(overlapped).toBe(false);
    const after = passes;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(after); // stopped: no pass after stop()
  });
});
