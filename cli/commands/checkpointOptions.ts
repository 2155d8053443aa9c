import type { Checkpoint } from '../../broker/store/centralStore.js';
import { CheckpointFieldsError, type CheckpointField } from '../../broker/registry/checkpointFields.js';
import { UsageError } from '../command.js';

/**
 * The checkpoint field options shared by `checkpoints create` and `checkpoints update`,
 * turned into the fields broker/registry/checkpointFields.ts checks, and its refusals turned
 * back into the option names the operator typed.
 */

export const checkpointFieldOptions = {
  name: { type: 'string' },
  unit: { type: 'string' },
  direction: { type: 'string' },
  confirm: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  branch: { type: 'boolean' },
  'no-branch': { type: 'boolean' },
} as const;

export interface CheckpointFieldValues {
  readonly name?: string | undefined;
  readonly unit?: string | undefined;
  readonly direction?: string | undefined;
  readonly confirm?: string | undefined;
  readonly lat?: string | undefined;
  readonly lon?: string | undefined;
  readonly branch?: boolean | undefined;
  readonly 'no-branch'?: boolean | undefined;
}

const optionOf: Record<CheckpointField, string> = {
  name: 'name',
  unit: 'unit',
  direction: 'direction',
  confirm: 'confirm',
  latitude: 'lat',
  longitude: 'lon',
  branch: 'branch',
};

/** `none` clears a position; anything but a plain decimal becomes NaN, which the check refuses ('' is not 0). */
function degrees(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value.trim().toLowerCase() === 'none') return null;
  return /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : Number.NaN;
}

/** The fields the options give; options left out are absent (update: unchanged). */
export function fieldsFromOptions(values: CheckpointFieldValues): Record<string, unknown> {
  if (values.branch && values['no-branch']) throw new UsageError('give --branch or --no-branch, not both');
  const fields: Record<string, unknown> = {
    name: values.name,
    unit: values.unit,
    direction: values.direction,
    confirm: values.confirm,
    latitude: degrees(values.lat),
    longitude: degrees(values.lon),
    branch: values.branch ? true : values['no-branch'] ? false : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** Runs `action`, reporting refused fields as a UsageError that names each option and what was typed. */
export async function withFieldUsage<T>(values: CheckpointFieldValues, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (!(err instanceof CheckpointFieldsError)) throw err;
    const lines = err.problems.map(({ field, message }) => {
      const option = optionOf[field];
      const typed = values[option as keyof CheckpointFieldValues];
      return `  --${option}: ${message}${typeof typed === 'string' ? `, got "${typed}"` : ''}`;
    });
    throw new UsageError(`refused, nothing was changed:\n${lines.join('\n')}`);
  }
}

/** The details that are set, for people: unit, position, branch. */
export function optionalDetails(checkpoint: Checkpoint): string[] {
  return [
    checkpoint.unit === '' ? null : `unit "${checkpoint.unit}"`,
    checkpoint.latitude === null ? null : `at ${checkpoint.latitude}, ${checkpoint.longitude}`,
    checkpoint.branch ? 'branch' : null,
  ].filter((part) => part !== null);
}

/** One line per checkpoint, for people. */
export function describeCheckpoint(checkpoint: Checkpoint): string {
  const state = checkpoint.retiredAt === null ? [] : [`RETIRED ${checkpoint.retiredAt}`];
  const details = [`direction ${checkpoint.direction}`, `confirm ${checkpoint.confirm}`, ...optionalDetails(checkpoint), ...state];
  return `${checkpoint.code}  "${checkpoint.name}"  ${details.join(', ')}`;
}
