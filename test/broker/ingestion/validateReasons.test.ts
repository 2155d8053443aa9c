import { describe, expect, it } from 'vitest';
import { validateEventBatch, validateStatus, validateTelemetry } from '../../../broker/ingestion/validate.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';

/** What the log line `ingest.malformed` says, word for word (edges found by mutation testing). */
const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };

describe('malformed reasons', () => {
  it('names the field by its path, array indexes in brackets, and the top level as such', () => {
    const events = scanEvents(who, 2);
    const broken = JSON.parse(batch(events)) as { events: Array<Record<string, unknown>> };
    broken.events[1]!.seq = 'x';
    expect(validateEventBatch(JSON.stringify(broken), who)).toMatchObject({ ok: false, reason: expect.stringMatching(/^schema: events\[1\]\.seq: /) });
    expect(validateStatus('[]')).toMatchObject({ ok: false, reason: expect.stringMatching(/^schema: \(top level\): /) });
  });

  it('counts unknown keys without quoting them, and says how many more problems there are past three', () => {
    const extra = { ...JSON.parse(status('online')), evilKey: 1, otherKey: 2 };
    expect(validateStatus(JSON.stringify(extra))).toEqual({ ok: false, reason: 'schema: (top level): 2 unrecognized key(s)' });
    const reason = (validateTelemetry('{}') as { reason: string }).reason;
    const total = Object.keys(JSON.parse(telemetry())).length;
    expect(reason).toMatch(new RegExp(`^schema: [^;]+; [^;]+; [^;]+ \\(\\+${total - 3} more\\)$`));
    const two = { ...JSON.parse(status('online')) };
    delete two.state;
    delete two.at;
    expect((validateStatus(JSON.stringify(two)) as { reason: string }).reason).not.toContain('more');
  });

  it('reads a payload given as a string or as bytes alike', () => {
    expect(validateStatus(status('offline'))).toMatchObject({ ok: true, value: { state: 'offline' } });
    expect(validateStatus(Buffer.from(status('offline')))).toMatchObject({ ok: true, value: { state: 'offline' } });
  });

  it('refuses an event that claims another checkpoint', () => {
    const events = scanEvents({ ...who, checkpointCode: '10000000000016' }, 1);
    expect(validateEventBatch(batch(events), who)).toEqual({ ok: false, reason: "events[0].checkpointCode is not the publishing terminal's checkpoint" });
  });
});
