/**
 * Typed refusals of the ledger service. None is retryable: the same postings
 * would be refused again, so the consumer rejects or dead-letters the event.
 */
export type LedgerErrorCode = 'LEDGER_UNBALANCED' | 'LEDGER_NEGATIVE_BALANCE' | 'LEDGER_EMPTY';

export class LedgerError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}
