/** escrow.disputes.v1: disputes opened, withdrawn and resolved. */
import { disputeMessage } from '../src/messages/inbound';
import { disputeCommand } from '../src/messages/to-command';
import { topicHandler } from '../src/pipeline/topic-handler';

export const disputesConsumer = topicHandler({
  topic: 'escrow.disputes.v1',
  validator: disputeMessage,
  toCommand: disputeCommand,
  occurredAt: (message) => message.occurredAt,
});
