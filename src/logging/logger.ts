/**
 * One structured logger (pino). Boundaries add child bindings: topic,
 * partition, offset, eventId, orderId, milestoneId. The domain never logs.
 */
import pino, { type Logger } from 'pino';
import type { Config } from '../config';

export type { Logger };

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({ level: config.LOG_LEVEL, base: { service: 'escrow-worker' } });
}
