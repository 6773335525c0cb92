/**
 * What a consumer in consumers/ declares: its topic, its validator and the
 * command a valid message asks for. `topicHandler` turns that into the one
 * function the runner needs: decoded value → command, or the reason it is not one.
 */
import type { z } from 'zod';
import type { InboundTopic } from '../codec/schemas';
import type { EscrowCommand } from '../domain/escrow';
import { describeIssues } from '../messages/inbound';

export type Parsed =
  { ok: true; command: EscrowCommand; occurredAt: Date } | { ok: false; reason: string };

export interface InboundHandler {
  readonly topic: InboundTopic;
  parse(decoded: unknown): Parsed;
}

export function topicHandler<M>(definition: {
  topic: InboundTopic;
  validator: z.ZodType<M>;
  toCommand: (message: M) => EscrowCommand;
  /** When the event happened, as its producer says. */
  occurredAt: (message: M) => string;
}): InboundHandler {
  return {
    topic: definition.topic,
    parse(decoded) {
      const result = definition.validator.safeParse(decoded);
      if (!result.success) {
        return {
          ok: false,
          reason: `the message does not satisfy the ${definition.topic} contract: ${describeIssues(result.error)}`,
        };
      }
      return {
        ok: true,
        command: definition.toCommand(result.data),
        occurredAt: new Date(definition.occurredAt(result.data)),
      };
    },
  };
}
