/**
 * The Avro schemas of schemas/, one per topic, loaded once. They are the
 * single source the registry subjects, the codec's reader schemas and the
 * validators' agreement test start from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const inboundTopics = [
  'escrow.orders.v1',
  'escrow.payment-confirmed.v1',
  'escrow.milestone-reached.v1',
  'escrow.disputes.v1',
  'escrow.settlements.v1',
] as const;
export const outboundTopics = [
  'escrow.payouts.v1',
  'escrow.refunds.v1',
  'escrow.events.v1',
  'escrow.dlq.v1',
] as const;
export type InboundTopic = (typeof inboundTopics)[number];
export type OutboundTopic = (typeof outboundTopics)[number];
export type Topic = InboundTopic | OutboundTopic;

// src/codec → schemas/ when run from source; dist/src/codec → schemas/ once compiled.
const fromSource = path.resolve(__dirname, '..', '..', 'schemas');
const fromDist = path.resolve(__dirname, '..', '..', '..', 'schemas');
const cache = new Map<Topic, string>();

/** The schema text of a topic (from `schemas/<topic>.avsc`). */
export function schemaText(topic: Topic): string {
  const cached = cache.get(topic);
  if (cached !== undefined) return cached;
  const file = `${topic}.avsc`;
  let text: string;
  try {
    text = readFileSync(path.join(fromSource, file), 'utf8');
  } catch {
    text = readFileSync(path.join(fromDist, file), 'utf8');
  }
  cache.set(topic, text);
  return text;
}

/** The registry subject of a topic: TopicNameStrategy, with the deployment's prefix. */
export const subjectOf = (prefix: string, topic: Topic) => `${prefix}${topic}-value`;
