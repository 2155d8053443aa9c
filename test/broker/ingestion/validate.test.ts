import { describe, it, expect } from 'vitest';
import { validateEventBatch, validateStatus, validateTelemetry } from '../../../broker/ingestion/validate.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';

const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };

describe('payload validation', () => {
  it('accepts a good batch as parsed events', () => {
    const events = scanEvents(who, 3);
    expect(validateEventBatch(Buffer.from(batch(events)), who)).toEqual({ ok: true, value: events });
  });

  it('refuses a whole batch when one event belongs to someone else', () => {
    const events = [...scanEvents(who, 2), ...scanEvents({ ...who, terminalId: 'gate-a-2' }, 1)];
    expect(validateEventBatch(batch(events), who)).toEqual({ ok: false, reason: 'events[2].terminalId is not the publishing terminal' });
  });

  it('refuses more than maxEventsPerBatch events', () => {
    const result = validateEventBatch(batch(scanEvents(who, 201)), who);
    expect(result.ok).toBe(false);
  });

  it('keeps reasons short, printable and free of payload values', () => {
    const hostile = JSON.stringify({ v: 1, events: [{ ['\u0000evil'.repeat(100)]: 'SECRET' }] });
    const result = validateEventBatch(hostile, who);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason.length).toBeLessThanOrEqual(301);
    expect(result.reason).toMatch(/^[\x20-\x7e…]*$/);
    expect(result.reason).not.toContain('SECRET');
    expect(result.reason).not.toContain('evil');
  });

  it('validates status and telemetry', () => {
    expect(validateStatus(status('offline'))).toMatchObject({ ok: true, value: { state: 'offline' } });
    expect(validateStatus('{"v":1}')).toMatchObject({ ok: false });
    expect(validateTelemetry(telemetry())).toMatchObject({ ok: true, value: { v: 1 } });
    expect(validateTelemetry(Buffer.from([0xff, 0xfe]))).toEqual({ ok: false, reason: 'not JSON' });
  });
});
