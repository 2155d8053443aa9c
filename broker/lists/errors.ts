/**
 * Why `qrgate lists publish` refused or failed. Every message is written for the operator
 * at the keyboard and says what to do; nothing of a failed publish is recorded as a version.
 */
export type ListPublishProblem = 'invalid-option' | 'empty-scope' | 'concurrent-publish' | 'write-failed';

export class ListPublishError extends Error {
  constructor(
    readonly code: ListPublishProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ListPublishError';
  }
}
