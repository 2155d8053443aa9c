import { z } from 'zod';

/**
 * The scan event: the contract between a terminal's outbox and the central store
 * (DESIGN.md "Scan event"). A raw ID number never appears here: only the keyed ref.
 */

/** `unknown`: the frame was not a credential; `none`: no scan at all (a remote `open` command). */
export const credentialTypes = ['card', 'cccd', 'pccovid', 'typed', 'unknown', 'none'] as const;
export type CredentialTypeOrUnknown = (typeof credentialTypes)[number];

export const decisions = ['granted', 'refused', 'duplicate'] as const;
export type Decision = (typeof decisions)[number];

export const reasons = [
  // granted
  'allowed', // valid entry, auto lane
  'confirmed', // operator pressed confirm
  'allowed-stale', // list expired, onStaleList = allow-known, entry says allow
  'remote-open', // the central's `open` command pulsed the relay
  // refused
  'malformed', // not a credential we recognise, or the frame itself was bad
  'unknown', // credential well-formed but not on any cached list
  'denied', // entry status deny
  'revoked', // entry status deny for a card reissued or reported lost: someone holds a card they should not
  'not-yet-valid', // entry validity window not started
  'expired', // entry validity window over
  'check-unattended', // entry status check at an unattended lane
  'stale-list', // list expired and onStaleList = deny
  'no-list', // the terminal holds no list for its scopes
  'passback', // anti-passback hard: same direction twice in a row
  'rejected', // operator pressed reject
  'timeout', // nobody confirmed within manualTimeoutMs
  'lane-busy', // another scan is waiting for the operator at this lane
  // duplicate
  'debounce', // same credential at the same lane within debounceMs
] as const;
export type Reason = (typeof reasons)[number];

export const directions = ['in', 'out'] as const;
export type Direction = (typeof directions)[number];

/** An actor as the central's audit log writes it: `user:{username}`, `token:{id}`. */
export const maxAnswererLength = 100;
export const maxNoteLength = 200;

export const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

export const scanEventSchema = z.object({
  id: z.uuid({ version: 'v7' }),
  terminalId: z.string().min(1).max(64),
  checkpointCode: z.string().regex(/^\d{14}$/),
  lane: z.string().min(1).max(32),
  direction: z.enum(directions),
  seq: z.number().int().positive(),
  bootId: z.uuid(),
  /** Terminal wall clock, ISO 8601 UTC. */
  ts: z.iso.datetime(),
  /** Whether the terminal believed its clock when it stamped `ts`. */
  clockTrusted: z.boolean(),
  credentialType: z.enum(credentialTypes),
  credentialRef: hex64.nullable(),
  listVersion: z.number().int().nonnegative().nullable(),
  decision: z.enum(decisions),
  reason: z.enum(reasons),
  /** Anti-passback `soft`: let through but flagged. */
  passback: z.boolean(),
  /** From the passage sensor: true/false once known, null where the lane has none (or it never reported). */
  passed: z.boolean().nullable(),
  /** Last frame byte to first output write, milliseconds. Null for decisions with no scan (timeouts). */
  latencyMs: z.number().nonnegative().nullable(),
  /**
   * Who answered from the central (the guard screen's confirm/reject, a remote open), as the
   * central's audit log names them (`user:lan`); absent for a decision taken at the gate.
   */
  answeredBy: z.string().min(1).max(maxAnswererLength).optional(),
  /** The typed reason of a remote open; absent otherwise. */
  note: z.string().min(1).max(maxNoteLength).optional(),
});

export type ScanEvent = z.infer<typeof scanEventSchema>;
