/**
 * Typed refusals of the ledger service. A LedgerError is not retryable: the
 * same postings would be refused again, so the consumer rejects or
 * dead-letters the event. ChainHeadMoved (below) is a race, and is.
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

/**
 * An order's chain head moved between the read of it and the write built on
 * it: only a writer outside the order's lock can do that. Retryable: the
 * whole transaction rolls back and runs again on the head as it now is, so
 * the chain never forks.
 */
export class ChainHeadMoved extends Error {
  readonly code = 'LEDGER_CHAIN_HEAD_MOVED';
  readonly retryable = true;
  constructor(orders: number) {
    super(
      `the ledger chain head of ${orders} order(s) moved while this transaction built on it; ` +
        'it is rolled back and retried on the head as it now is',
    );
    this.name = 'ChainHeadMoved';
  }
}
