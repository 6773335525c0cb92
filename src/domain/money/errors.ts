// Typed errors for the money module. Every failure here is a property of the input
// (a malformed amount, a currency the worker does not know, two currencies mixed),
// so retrying the same input can never succeed: `retryable` is always false and
// the consumer rejects or dead-letters instead of retrying.

export type MoneyErrorCode =
  'AMOUNT_PRECISION' | 'INVALID_AMOUNT' | 'UNKNOWN_CURRENCY' | 'CURRENCY_MISMATCH';

export class MoneyError extends Error {
  readonly code: MoneyErrorCode;
  readonly retryable = false;

  constructor(code: MoneyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MoneyError';
    this.code = code;
  }
}

// Inputs can come straight from a Kafka event, so they are quoted (to show
// whitespace and odd characters) and shortened (so a 10 MB string cannot flood
// the logs) before they go into a message.
export function quoteInput(text: string): string {
  const limit = 40;
  const shown = text.length > limit ? `${text.slice(0, limit)}…` : text;
  return JSON.stringify(shown);
}
