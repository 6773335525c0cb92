/** What the consumer runner and its slice handler are given (worker.ts wires them). */
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { RegistryCodec } from '../codec/registry-codec';
import type { LockService } from '../locks/redlock';
import type { Logger } from '../logging/logger';
import type { WorkerMetrics } from '../ops/metrics';
import type { PipelineSettings } from './events';
import type { PipelineTracing } from './trace-hooks';
import type { InboundHandler } from './topic-handler';

export interface RunnerDependencies {
  kafka: Kafka;
  db: Knex;
  codec: RegistryCodec;
  locks: LockService;
  log: Logger;
  settings: PipelineSettings;
  consumerGroup: string;
  handlers: readonly InboundHandler[];
  metrics: WorkerMetrics;
  /** Follows each event in a trace (src/tracing), or only carries the context it came with. */
  tracing: PipelineTracing;
  /** Fault injection (tests only): die right after this event's database commit. */
  crashAfterCommitOf?: string;
  /**
   * Called once if the KafkaJS consumer crashes and will not restart: the
   * process then consumes nothing more, so main.ts exits for a supervisor to replace it.
   */
  onConsumerStopped?: (error: Error) => void;
}
