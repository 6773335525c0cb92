/**
 * Which failures are retried and how. Only failures known to be permanent —
 * the same input would fail the same way (a ledger refusal, a data or
 * integrity error, a programming error in SQL) — are treated as such; every
 * other failure (a lost version race, a serialization failure or deadlock, a
 * database, registry, broker or DNS that cannot be reached, a timeout, a
 * failover) is transient: retried with bounded, jittered backoff, never
 * committed as processed and never dead-lettered.
 */

/** SQLSTATE classes that mean "this statement is wrong for this data", not "try later". */
const permanentPgClasses = new Set([
  '22', // data exception
  '23', // integrity constraint violation
  '42', // syntax error or access rule violation
  '2B', // dependent privilege descriptors still exist
  '44', // with check option violation
]);

/** A programming error of this worker: retrying the same code on the same input cannot help. */
function isProgrammingError(error: object): boolean {
  const builtIn =
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError;
  // fetch reports an unreachable host as TypeError("fetch failed", { cause }):
  // told apart by its cause, not by the wording of its message.
  return builtIn && error.cause === undefined;
}

export function isPermanent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  if (isProgrammingError(error)) return true;
  const { retryable, code } = error as { retryable?: unknown; code?: unknown };
  if (retryable === true) return false;
  // Typed errors of this worker say so themselves (LedgerError, MoneyError, FeePolicyError, ...).
  if (retryable === false) return true;
  return (
    typeof code === 'string' &&
    /^[0-9A-Z]{5}$/.test(code) &&
    permanentPgClasses.has(code.slice(0, 2))
  );
}

export const isTransient = (error: unknown): boolean => !isPermanent(error);

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Stop retrying once this much time has passed since the first attempt. */
  budgetMs?: number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * The budget for one message's step (decoding, applying, dead-lettering):
 * bounded so that one message never holds its partition long. After it the
 * step throws, nothing is committed, and KafkaJS redelivers after its own
 * backoff; heartbeats between attempts keep the member in the group.
 */
export const MESSAGE_RETRY = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2000, budgetMs: 8000 };

export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const outOfTime = options.budgetMs !== undefined && Date.now() - started >= options.budgetMs;
      if (isPermanent(error) || attempt >= options.attempts || outOfTime) throw error;
      // Full jitter: a random delay up to the exponential bound, so retries of
      // racing workers spread out instead of colliding again.
      const bound = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(Math.random() * bound);
      options.onRetry?.(error, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
