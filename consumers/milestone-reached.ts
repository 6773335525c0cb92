/** escrow.milestone-reached.v1: upstream services report a milestone reached. */
import { milestoneReachedMessage } from '../src/messages/inbound';
import { reachedCommand } from '../src/messages/to-command';
import { topicHandler } from '../src/pipeline/topic-handler';

export const milestoneReachedConsumer = topicHandler({
  topic: 'escrow.milestone-reached.v1',
  validator: milestoneReachedMessage,
  toCommand: reachedCommand,
  occurredAt: (message) => message.occurredAt,
});
