import type { ListProblem } from '../../protocol/lists/index.js';

/**
 * Why a list was not applied; the installed list stays as it was in every case.
 * - the ListError codes: the file was refused before anything was written
 * - `base-missing`: a delta whose base version is not the one installed
 * - `count-mismatch`: the result would not hold the entry count the publisher announced
 *   (the caller falls back to a full snapshot, as Italy's revocation list does)
 * - `hash-mismatch`: the file is not the one the manifest describes
 * - `io`: the file could not be read, the database could not be written, or the worker died
 */
export type ListApplyProblem = ListProblem | 'base-missing' | 'count-mismatch' | 'hash-mismatch' | 'io';

export class ListApplyError extends Error {
  constructor(
    readonly code: ListApplyProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ListApplyError';
  }
}

export interface ApplyResult {
  readonly scope: string;
  readonly version: number;
  readonly previousVersion: number | null;
  readonly kind: 'snapshot' | 'delta';
  /** Entries in the scope's list after the apply. */
  readonly entries: number;
  /** False when this version was already installed. */
  readonly changed: boolean;
  readonly applyMs: number;
}
