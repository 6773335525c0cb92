/**
 * One structured logger (pino). Boundaries add child bindings: topic,
 * partition, offset, eventId, orderId, milestoneId. The domain never logs.
 * The worker logs to stdout; operator commands whose stdout carries their
 * output (JSON lines, the demo's story) log to stderr instead.
 */
import pino, { type Logger } from 'pino';
import type { Config } from '../config';

export type { Logger };

export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  options: { service?: string; toStderr?: boolean } = {},
): Logger {
  return pino(
    { level: config.LOG_LEVEL, base: { service: options.service ?? 'escrow-worker' } },
    pino.destination(options.toStderr ? 2 : 1),
  );
}
