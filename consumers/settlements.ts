/**
 * escrow.settlements.v1: what became of payouts and refunds escrow-worker
 * asked for, and chargebacks of payments. Deduplicated on
 * (gateway, gatewayReference, type).
 */
import { settlementMessage } from '../src/messages/inbound';
import { settlementCommand } from '../src/messages/to-command';
import { topicHandler } from '../src/pipeline/topic-handler';

export const settlementsConsumer = topicHandler({
  topic: 'escrow.settlements.v1',
  validator: settlementMessage,
  toCommand: settlementCommand,
  occurredAt: (message) => message.occurredAt,
});
