import type { z } from 'zod';
import type { ScanEvent } from '../../protocol/event.js';
import { eventBatchSchema, statusSchema, telemetrySchema, type Telemetry, type TerminalStatus } from '../../protocol/messages.js';

/**
 * Payload checks for what terminals publish (protocol/messages.ts). Each answers with the
 * parsed value or a short reason for the log. A reason never quotes the payload: a
 * payload may carry anything, and logs travel further than the database.
 */

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Who the topic says published the message; the ACL has already matched it to the client. */
export interface TopicIdentity {
  readonly terminalId: string;
  readonly checkpointCode: string;
}

const maxReasonLength = 300;

function sanitize(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > maxReasonLength ? `${printable.slice(0, maxReasonLength)}…` : printable;
}

function parseJson(payload: Buffer | string): Validated<unknown> {
  try {
    return { ok: true, value: JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

function describe(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
    // zod names unknown keys in its message, and those keys come from the payload.
    const message = issue.code === 'unrecognized_keys' ? `${issue.keys.length} unrecognized key(s)` : issue.message;
    return `${path.replace(/^\./, '') || '(top level)'}: ${message}`;
  });
  const more = error.issues.length > shown.length ? ` (+${error.issues.length - shown.length} more)` : '';
  return `schema: ${shown.join('; ')}${more}`;
}

function validateWith<S extends z.ZodType>(schema: S, payload: Buffer | string): Validated<z.output<S>> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: sanitize(describe(parsed.error)) };
}

/**
 * A batch is taken whole or not at all: one event claiming another terminal or checkpoint
 * means the sender is broken or lying, and storing "the good part" would hide that.
 */
export function validateEventBatch(payload: Buffer | string, identity: TopicIdentity): Validated<readonly ScanEvent[]> {
  const batch = validateWith(eventBatchSchema, payload);
  if (!batch.ok) return batch;
  const events = batch.value.events;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.terminalId !== identity.terminalId) return { ok: false, reason: `events[${i}].terminalId is not the publishing terminal` };
    if (event.checkpointCode !== identity.checkpointCode) return { ok: false, reason: `events[${i}].checkpointCode is not the publishing terminal's checkpoint` };
  }
  return { ok: true, value: events };
}

export function validateStatus(payload: Buffer | string): Validated<TerminalStatus> {
  return validateWith(statusSchema, payload);
}

export function validateTelemetry(payload: Buffer | string): Validated<Telemetry> {
  return validateWith(telemetrySchema, payload);
}
