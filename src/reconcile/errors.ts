/**
 * Why a reconciliation could not run at all (as opposed to what it found).
 * An unreachable database is retryable; a database without the schema, or
 * options that make no sense, are not.
 */
export type ReconcileErrorCode =
  'DATABASE_UNREACHABLE' | 'DATABASE_NOT_MIGRATED' | 'INVALID_OPTIONS';

export class ReconcileError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: ReconcileErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReconcileError';
    this.retryable = code === 'DATABASE_UNREACHABLE';
  }
}

// Node's socket errors and Postgres's "cannot connect" SQLSTATEs: no query ran.
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '3D000', // the database does not exist
  '28000', // no such role / not allowed
  '28P01', // wrong password
  '57P03', // the server is starting up or shutting down
]);

/** A ReconcileError for a database that could not be reached, or undefined for anything else. */
export function unreachableDatabase(error: unknown): ReconcileError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const unreachable =
    (typeof code === 'string' && unreachableCodes.has(code)) || error.name === 'KnexTimeoutError';
  if (!unreachable) return undefined;
  return new ReconcileError(
    'DATABASE_UNREACHABLE',
    `cannot reach the database (${error.message}): is Postgres running, and does DATABASE_URL name ` +
      'the worker database? Locally, `npm run services:up` starts it.',
    { cause: error },
  );
}
