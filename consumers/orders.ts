/** escrow.orders.v1: order lifecycle from the marketplace. */
import { orderMessage } from '../src/messages/inbound';
import { orderCommand } from '../src/messages/to-command';
import { topicHandler } from '../src/pipeline/topic-handler';

export const ordersConsumer = topicHandler({
  topic: 'escrow.orders.v1',
  validator: orderMessage,
  toCommand: orderCommand,
  occurredAt: (message) => message.occurredAt,
});
