/**
 * When is a run done? When the workers have committed every inbound message
 * (their consumer group's lag 0, whichever member held each partition: a
 * worker commits an offset only after the database commit, so this covers
 * retried callbacks, which leave no outcome), then the outbox
 * holds nothing unpublished (so every outcome of those commits is in
 * Kafka), and then the outcome reader has read every outbound partition to
 * its end. Checked in that order, each fact implies the work before it.
 * Settlements close a loop: reading a payout or refund sends its settlement,
 * which the worker answers with another outcome. So the run is done only if
 * no settlement was queued or sent while the checks ran: then every
 * settlement sent was committed (lag 0), its outcome published and read.
 * The worker's own operations code measures lag and backlog the same way.
 */
import type { Admin } from 'kafkajs';
import type { Knex } from 'knex';
import { inboundTopics } from '../codec/schemas';
import { scrapeSources } from '../ops/scrape-sources';
import type { OutcomeReader } from './outcome-reader';
import type { WorkerGroup } from './worker-group';

export interface Progress {
  readonly lag: number;
  readonly outboxBacklog: number;
  readonly outcomes: number;
}

export interface CompletionWatch {
  readonly admin: Admin;
  readonly db: Knex;
  readonly consumerGroup: string;
  readonly topicPrefix: string;
  readonly reader: OutcomeReader;
  /** Every worker of the run: one that exits fails the run. */
  readonly workers: WorkerGroup;
  readonly signal: AbortSignal;
  /** Fails when nothing moved (lag, backlog, outcomes read) for this long. */
  readonly stallMs: number;
  /** True while events are still being produced or waiting to be: the run cannot be done before. */
  readonly producing: () => boolean;
  /** Events handed over so far (planned and settlements): the checks hold only if it did not move. */
  readonly handedOver: () => number;
  readonly onProgress: (progress: Progress) => void;
}

const pollMs = 500;

export async function waitForCompletion(watch: CompletionWatch): Promise<void> {
  const sources = scrapeSources({
    admin: watch.admin,
    db: watch.db,
    consumerGroup: watch.consumerGroup,
    topicPrefix: watch.topicPrefix,
    inboundTopics,
    relayActive: () => false,
  });
  let last = '';
  let movedAt = Date.now();
  for (;;) {
    if (watch.signal.aborted) throw new Error('interrupted while waiting for the worker');
    if (!watch.workers.running) {
      throw new Error(`a worker exited before finishing; see its log in ${watch.workers.logPath}`);
    }
    const handedOver = watch.handedOver();
    const lag = (await sources.consumerLag()).reduce((sum, row) => sum + row.lag, 0);
    const outboxBacklog = (await sources.outboxBacklog()).rows;
    const progress = { lag, outboxBacklog, outcomes: watch.reader.outcomes };
    watch.onProgress(progress);
    const producing = watch.producing();
    if (
      !producing &&
      lag === 0 &&
      outboxBacklog === 0 &&
      (await watch.reader.caughtUp(watch.admin)) &&
      !watch.producing() &&
      watch.handedOver() === handedOver
    ) {
      return;
    }

    const signature = JSON.stringify(progress);
    if (signature !== last || producing) {
      last = signature;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > watch.stallMs) {
      const stuck =
        lag > 0
          ? `the worker left ${lag} inbound messages unprocessed`
          : outboxBacklog > 0
            ? `${outboxBacklog} outbox rows stayed unpublished`
            : 'the outcome reader could not read the outcome topics to their end';
      throw new Error(
        `nothing moved for ${watch.stallMs / 1000} s: ${stuck}. ` +
          `See the workers' logs in ${watch.workers.logPath}, and \`npm run services:status\`.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
