import { z } from 'zod';
import type { CheckpointChanges, CheckpointDirection } from '../store/centralStore.js';

/**
 * The fields an operator sets on a checkpoint (`checkpoints create` and `update`), checked
 * in one place so both commands refuse the same things with the same words, and a
 * checkpoint is never half-changed: every problem is found before anything is written.
 */

export const checkpointDirections = ['in', 'out', 'both'] as const satisfies readonly CheckpointDirection[];
export const confirmModes = ['auto', 'manual'] as const;

/** Same bound as a terminal config's `checkpoint.name` (gateway/config.ts). */
const maxTextLength = 200;

const text = (what: string, min: number) =>
  z
    .string()
    .trim()
    .min(min, { error: `${what} must not be empty` })
    .max(maxTextLength, { error: `${what} must be at most ${maxTextLength} characters` });

/** Degrees within ±limit; NaN (a typed value that is not a number) gets its own message. */
const degrees = (limit: number) =>
  z
    .number({ error: `must be a number of degrees from -${limit} to ${limit}` })
    .min(-limit, { error: `must be from -${limit} to ${limit}` })
    .max(limit, { error: `must be from -${limit} to ${limit}` })
    .nullable();

const fieldsSchema = z
  .object({
    name: text('the name', 1),
    unit: text('the unit', 0),
    direction: z.enum(checkpointDirections, { error: `must be ${checkpointDirections.join(' | ')}` }),
    confirm: z.enum(confirmModes, { error: `must be ${confirmModes.join(' | ')}` }),
    latitude: degrees(90),
    longitude: degrees(180),
    branch: z.boolean(),
  })
  .partial()
  .strict();

export type CheckpointField = keyof CheckpointChanges;

export interface FieldProblem {
  readonly field: CheckpointField;
  readonly message: string;
}

export class CheckpointFieldsError extends Error {
  readonly code = 'invalid-checkpoint-fields';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(`invalid checkpoint fields:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`);
    this.name = 'CheckpointFieldsError';
  }
}

/**
 * The changes, trimmed and checked; throws CheckpointFieldsError listing every bad field.
 * `current` is the position the checkpoint has now (null/null for a new one): latitude and
 * longitude are one position, so the result may not leave exactly one of them set.
 */
export function checkCheckpointFields(
  input: Record<string, unknown>,
  current: { readonly latitude: number | null; readonly longitude: number | null } = { latitude: null, longitude: null },
): CheckpointChanges {
  const parsed = fieldsSchema.safeParse(input);
  const problems: FieldProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ field: (issue.path[0] ?? 'name') as CheckpointField, message: issue.message }));
  if (parsed.success) {
    const latitude = parsed.data.latitude === undefined ? current.latitude : parsed.data.latitude;
    const longitude = parsed.data.longitude === undefined ? current.longitude : parsed.data.longitude;
    if ((latitude === null) !== (longitude === null)) {
      // Named after the half the operator left out, or else the half that is empty.
      const onlyLatitudeGiven = parsed.data.latitude !== undefined && parsed.data.longitude === undefined;
      const onlyLongitudeGiven = parsed.data.longitude !== undefined && parsed.data.latitude === undefined;
      const missing: CheckpointField = onlyLatitudeGiven ? 'longitude' : onlyLongitudeGiven ? 'latitude' : latitude === null ? 'latitude' : 'longitude';
      problems.push({ field: missing, message: 'latitude and longitude are one position: give both, or clear both' });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new CheckpointFieldsError(problems);
  return parsed.data;
}
