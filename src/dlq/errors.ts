/**
 * Typed errors of the dead-letter tools. None is retryable as is: an unknown
 * id or a message that still fails is the operator's to change; a DLQ read
 * that did not finish says what it waited for, so it can be run again.
 */
export type DlqErrorCode =
  'DLQ_UNKNOWN_ID' | 'DLQ_NOT_REPLAYABLE' | 'DLQ_READ_INCOMPLETE' | 'DLQ_BAD_ID';

export class DlqError extends Error {
  readonly code: DlqErrorCode;
  readonly retryable: boolean;

  constructor(code: DlqErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DlqError';
    this.code = code;
    // A read that timed out may well finish when run again; the others will not change alone.
    this.retryable = code === 'DLQ_READ_INCOMPLETE';
  }
}
