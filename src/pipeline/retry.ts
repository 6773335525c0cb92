/**
 * Transient failures are retried with bounded, jittered exponential backoff;
 * they are never committed as processed nor dead-lettered. What counts as
 * transient: a lost version race, a serialization failure or deadlock, a
 * database, registry or broker that cannot be reached.
 */
const transientPgCodes = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004', // connection exceptions
]);

export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { retryable, code, message } = error as {
    retryable?: unknown;
    code?: unknown;
    message?: unknown;
  };
  if (retryable === true) return true;
  if (
    typeof code === 'string' &&
    (transientPgCodes.has(code) ||
      /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)$/.test(code))
  ) {
    return true;
  }
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout acquiring a connection|Knex: Timeout/i.test(message)
  );
}

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt >= options.attempts) throw error;
      // Full jitter: a random delay up to the exponential bound, so retries of
      // racing workers spread out instead of colliding again.
      const bound = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(Math.random() * bound);
      options.onRetry?.(error, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
