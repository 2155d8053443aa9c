/** Why a terminal refused a list; it keeps the list it had (DESIGN.md "Signed card list"). */
export type ListProblem = 'malformed' | 'unknown-key' | 'bad-signature' | 'wrong-scope' | 'rollback' | 'expired';

export class ListError extends Error {
  constructor(
    readonly code: ListProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ListError';
  }
}

/** A list that cannot be built: the caller passed something the format cannot say. */
export type ListEncodeProblem = 'invalid-header' | 'invalid-entry' | 'invalid-key';

export class ListEncodeError extends Error {
  constructor(
    readonly code: ListEncodeProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ListEncodeError';
  }
}
