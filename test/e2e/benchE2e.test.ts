import { describe, expect, it } from 'vitest';
import { QrgateProcess } from '../helpers/qrgateProcess.js';

/**
 * `qrgate bench e2e` with tiny numbers, as a real process (its children run the same
 * entry): the JSON it promises, and nothing lost or doubled. No speed is asserted: figures
 * come from full-size runs on a quiet machine, never from a timed test.
 */

const numberOrNull = (value: unknown): boolean => value === null || typeof value === 'number';

async function bench(args: readonly string[]): Promise<Record<string, unknown>> {
  const proc = new QrgateProcess(['bench', 'e2e', '--json', ...args]);
  const { code } = await proc.exited;
  if (code !== 0) throw new Error(`bench e2e exited ${code}:\n${proc.stderr.join('\n')}`);
  // --json: stdout is exactly one JSON object.
  expect(proc.lines).toHaveLength(1);
  return proc.lines[0] as Record<string, unknown>;
}

describe('qrgate bench e2e', () => {
  it('runs 5 terminals through our central and reports every event stored once', async () => {
    const result = await bench(['--terminals', '5', '--events', '500', '--rate', '2000', '--burst', '10']);
    expect(result).toMatchObject({
      broker: 'qrgate-central',
      terminals: 5,
      events: 500,
      stored: 500,
      lost: 0,
      lostAfterAck: 0,
      duplicated: 0,
      unexpected: 0,
      drain: 'complete',
      windowStart: 'first-decision',
      ingestRssMb: null, // ingestion runs inside the central
      loadProcesses: 2,
    });
    for (const key of ['eventsPerSec', 'p50Ms', 'p99Ms', 'maxMs', 'brokerRssMb', 'windowMs', 'drainMs', 'connectMs', 'recordPerSec']) {
      expect(typeof result[key], key).toBe('number');
    }
    expect(result.eventsPerSec as number).toBeGreaterThan(0);
    expect(result.p99Ms as number).toBeGreaterThanOrEqual(result.p50Ms as number);
    expect(result.brokerRssMb as number).toBeGreaterThan(0);
    expect(result.redeliveries).toBe(0);
    for (const key of ['brokerRssSampledMb', 'terminalsRssMb', 'brokerCpuPct', 'terminalsCpuPct']) expect(numberOrNull(result[key]), key).toBe(true);
  });

  it('drains a backlog recorded before the terminals connect', async () => {
    const result = await bench(['--terminals', '3', '--events', '300', '--backlog', '--load-processes', '1']);
    expect(result).toMatchObject({ events: 300, stored: 300, lost: 0, duplicated: 0, windowStart: 'first-stored', loadProcesses: 1 });
  });

  it('--pair on PostgreSQL: our central and its own Mosquitto store the same backlog once each, and give their ratio', async () => {
    const result = await bench(['--pair', '--rounds', '1', '--store', 'postgres', '--terminals', '3', '--events', '300', '--backlog', '--load-processes', '1']);
    expect(result).toMatchObject({ mode: 'pair', rounds: 1, backlog: true, stores: [{ store: 'postgres', ratio: expect.any(Number) }] });
    const [postgres] = result.stores as { central: { runs: Record<string, unknown>[] }; mosquitto: { runs: Record<string, unknown>[] } }[];
    const once = { store: 'postgres', events: 300, stored: 300, lost: 0, duplicated: 0, unexpected: 0 };
    expect(postgres!.central.runs).toEqual([expect.objectContaining({ ...once, broker: 'qrgate-central' })]);
    expect(postgres!.mosquitto.runs).toEqual([expect.objectContaining({ ...once, broker: 'external', receipts: true })]);
  });
});
