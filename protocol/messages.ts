import { z } from 'zod';
import { credentialTypes, decisions, directions, hex64, maxAnswererLength, maxNoteLength, reasons, scanEventSchema } from './event.js';

/**
 * MQTT payloads (JSON, UTF-8). Every payload is validated with these schemas on receipt;
 * a payload that fails is counted and dropped, never allowed to crash a process.
 */

/** Largest batch a terminal sends in one publish; the broker's packet limit is sized from it. */
export const maxEventsPerBatch = 200;

/** `…/events`, terminal -> central, QoS 1, not retained. */
export const eventBatchSchema = z.strictObject({
  v: z.literal(1),
  events: z.array(scanEventSchema).min(1).max(maxEventsPerBatch),
});
export type EventBatch = z.infer<typeof eventBatchSchema>;

/**
 * `…/receipts`, central -> terminal, QoS 1, never retained (issue 15 point 1): sent after the
 * store's commit of one `…/events` batch, naming the per-terminal sequence numbers of its
 * events, every one of which the store now holds. A batch received again (already stored)
 * gets a receipt too, so a terminal that resent it can let it go. A terminal with
 * `central.receipts` deletes outbox rows on this, not on the broker's PUBACK, which behind a
 * third-party broker says nothing about the store (DESIGN.md "A PUBACK is not a receipt").
 * Sequence numbers are enough: a terminal never hands the same one out twice.
 */
export const receiptSchema = z.strictObject({
  v: z.literal(1),
  seqs: z.array(z.number().int().positive()).min(1).max(maxEventsPerBatch),
});
export type Receipt = z.infer<typeof receiptSchema>;

/** `…/status`, retained, QoS 1; the `offline` one is the terminal's MQTT will. */
export const statusSchema = z.strictObject({
  v: z.literal(1),
  state: z.enum(['online', 'offline']),
  bootId: z.uuid(),
  at: z.iso.datetime(),
});
export type TerminalStatus = z.infer<typeof statusSchema>;

/** `…/telemetry`, QoS 0 heartbeat, not retained. */
export const telemetrySchema = z.strictObject({
  v: z.literal(1),
  bootId: z.uuid(),
  at: z.iso.datetime(),
  uptimeS: z.number().nonnegative(),
  outboxDepth: z.number().int().nonnegative(),
  /** Events sent but not yet acknowledged (with the terminal's `central.receipts`: not yet receipted). */
  inFlight: z.number().int().nonnegative(),
  lists: z.array(
    z.strictObject({
      scope: z.string(),
      version: z.number().int().nullable(),
      /** Seconds since the list was issued; null without a list. */
      ageS: z.number().nullable(),
      expiresAt: z.iso.datetime().nullable(),
      stale: z.boolean(),
    }),
  ),
  scanners: z.array(z.strictObject({ lane: z.string(), connected: z.boolean() })),
  clockTrusted: z.boolean(),
  /** From the OS (systemd-timesyncd / chrony); null where it cannot be known. */
  clockSynced: z.boolean().nullable(),
  /**
   * Whether the terminal's database takes writes (gateway/storageHealth.ts). Optional: a
   * terminal from before it sends none. A central from before it refuses telemetry that has
   * it (strict schema) until upgraded; events are not affected.
   */
  storage: z
    .strictObject({
      writable: z.boolean(),
      /** The storage error code (SQLITE_FULL on a full disk) while not writable. */
      error: z.string().max(64).nullable(),
      since: z.iso.datetime().nullable(),
      /** Writes refused since `since`. */
      failures: z.number().int().nonnegative(),
    })
    .optional(),
});
export type Telemetry = z.infer<typeof telemetrySchema>;

/**
 * `…/cmd/{name}`, central -> terminal, QoS 1, never retained (STYLE.md habit 10: a retained
 * `open` would reopen the gate after every reboot). Expired commands are ignored.
 */
export const commandNames = ['open', 'ping', 'sync-lists', 'confirm', 'reject'] as const;
export type CommandName = (typeof commandNames)[number];

export const commandSchema = z.strictObject({
  v: z.literal(1),
  id: z.uuid(),
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  /** `open`: which lane's relay to pulse; `confirm`/`reject`: the pending scan's lane. */
  lane: z.string().max(32).optional(),
  /** `confirm`/`reject`: the pending scan answered (`…/pending` message id). */
  pendingId: z.uuid().optional(),
  /** Who answered at the central, recorded in the event as `answeredBy`. */
  by: z.string().min(1).max(maxAnswererLength).optional(),
  /** `open`: the operator's typed reason, recorded in the event as `note`. */
  reason: z.string().min(1).max(maxNoteLength).optional(),
});
export type Command = z.infer<typeof commandSchema>;

/**
 * Why a terminal did not run a command it received. Shared with the central, which records
 * the reason on the command's row (`qrgate terminals command` prints it).
 */
export const commandIgnoreReasons = [
  'foreign-topic',
  'retained',
  'unknown-command',
  'too-large',
  'malformed',
  'expired',
  'duplicate',
  'unknown-lane',
  'lane-stopped',
  /** `confirm`/`reject` for a scan not pending here: answered already, timed out, or unknown. */
  'not-pending',
] as const;
export type CommandIgnoreReason = (typeof commandIgnoreReasons)[number];

/**
 * `…/cmd-acks`, terminal -> central, QoS 1, not retained: what the terminal did with a
 * command that carried an id (issue 15 point 6: a command is acknowledged end to end, not by
 * a PUBACK, and sent again until acknowledged or expired). A command received twice is
 * answered twice with the outcome of its first run, so an ack lost on the way changes nothing.
 */
export const commandAckSchema = z.union([
  z.strictObject({
    v: z.literal(1),
    id: z.uuid(),
    name: z.enum(commandNames),
    outcome: z.literal('executed'),
    /** Terminal clock, when it ran the command. */
    at: z.iso.datetime(),
    /** `open`, `confirm`, `reject`: the event the command was recorded as. */
    eventId: z.uuid().optional(),
  }),
  z.strictObject({
    v: z.literal(1),
    id: z.uuid(),
    name: z.enum(commandNames),
    outcome: z.literal('ignored'),
    at: z.iso.datetime(),
    reason: z.enum(commandIgnoreReasons),
  }),
]);
export type CommandAck = z.infer<typeof commandAckSchema>;

/**
 * `…/pending`, terminal -> central, QoS 1, not retained: a scan held for an operator at a
 * manual-confirm lane, and its end. `id` is the id the decided event will carry. Only the
 * credential's keyed ref travels, never the raw ID number. A terminal publishes what is
 * pending again on every connect, so a central that restarted, or missed a message while
 * the link was down, catches up; `expiresAt` bounds how long a lost `resolved` can linger.
 */
export const pendingHeldSchema = z.strictObject({
  v: z.literal(1),
  state: z.literal('pending'),
  id: z.uuid({ version: 'v7' }),
  lane: z.string().min(1).max(32),
  direction: z.enum(directions),
  /** Terminal clock, when the scan was held. */
  at: z.iso.datetime(),
  /** Terminal clock: the lane refuses it as `timeout` then. */
  expiresAt: z.iso.datetime(),
  credentialType: z.enum(credentialTypes),
  credentialRef: hex64.nullable(),
  listVersion: z.number().int().nonnegative().nullable(),
});
export const pendingResolvedSchema = z.strictObject({
  v: z.literal(1),
  state: z.literal('resolved'),
  id: z.uuid({ version: 'v7' }),
  lane: z.string().min(1).max(32),
  at: z.iso.datetime(),
  decision: z.enum(decisions),
  reason: z.enum(reasons),
  answeredBy: z.string().min(1).max(maxAnswererLength).optional(),
});
export const pendingMessageSchema = z.discriminatedUnion('state', [pendingHeldSchema, pendingResolvedSchema]);
export type PendingHeld = z.infer<typeof pendingHeldSchema>;
export type PendingResolved = z.infer<typeof pendingResolvedSchema>;
export type PendingMessage = z.infer<typeof pendingMessageSchema>;
