/** The five inbound topics and their thin consumers. */
import type { InboundHandler } from '../src/pipeline/topic-handler';
import { disputesConsumer } from './disputes';
import { milestoneReachedConsumer } from './milestone-reached';
import { ordersConsumer } from './orders';
import { paymentConfirmedConsumer } from './payment-confirmed';
import { settlementsConsumer } from './settlements';

export const consumers: readonly InboundHandler[] = [
  ordersConsumer,
  paymentConfirmedConsumer,
  milestoneReachedConsumer,
  disputesConsumer,
  settlementsConsumer,
];
