/** escrow.payment-confirmed.v1: gateway callbacks, deduplicated on (gateway, gatewayReference). */
import { paymentConfirmedMessage } from '../src/messages/inbound';
import { paymentCommand } from '../src/messages/to-command';
import { topicHandler } from '../src/pipeline/topic-handler';

export const paymentConfirmedConsumer = topicHandler({
  topic: 'escrow.payment-confirmed.v1',
  validator: paymentConfirmedMessage,
  toCommand: paymentCommand,
  occurredAt: (message) => message.confirmedAt,
});
