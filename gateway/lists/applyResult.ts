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
  /** From the call to the installed list: the file's checks (its hash, or its signature) included. */
  readonly applyMs: number;
  /** Where applyMs went (bench lists reads them to see what a scan waits on during an apply). */
  readonly phases: ApplyPhases;
}

/** Milliseconds per step of one apply; they add up to applyMs. */
export interface ApplyPhases {
  /** Reading the file to check its hash or signature, and its header. */
  readonly verifyMs: number;
  /** Decoding and writing the entries, inside the write transaction. */
  readonly writeMs: number;
  /** COMMIT, with the WAL checkpoint SQLite runs after it. */
  readonly commitMs: number;
  /** Dropping the generation a snapshot replaced, in its own transaction. */
  readonly dropMs: number;
}
