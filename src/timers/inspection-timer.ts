/**
 * Fires inspection-period releases on time and across restarts: deadlines live
 * in the database (milestones.inspection_deadline), and every tick sends
 * INSPECTION_ELAPSED for each milestone whose deadline has passed through the
 * same path as a message. Its eventId names the milestone and the deadline, so
 * the inbox lets each deadline fire once, even when two workers or a restarted
 * one tick at the same time; the release rule itself decides whether anything
 * is due.
 *
 * Each INSPECTION_ELAPSED is an event the worker makes itself: with tracing
 * on it starts a trace of its own (trace-hooks.ts `ownEvent`), whose context
 * its outcomes (a PAYOUT_REQUESTED, a MILESTONE_RELEASED) carry.
 */
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger';
import { applyEvent } from '../pipeline/apply-event';
import type { PipelineSettings } from '../pipeline/events';
import { isTransient } from '../pipeline/retry';
import { type PipelineTracing, untraced } from '../pipeline/trace-hooks';

export interface InspectionTimerOptions {
  /** Between ticks; 1 s by default. */
  readonly intervalMs?: number;
  /** Gives each INSPECTION_ELAPSED a trace of its own (src/tracing); none by default. */
  readonly tracing?: PipelineTracing;
}

export class InspectionTimer {
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly db: Knex,
    private readonly settings: PipelineSettings,
    private readonly log: Logger,
    private readonly options: InspectionTimerOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    const schedule = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.tick = this.fireDue()
          .then(() => undefined)
          .catch((error: unknown) => {
            const level = isTransient(error) ? 'warn' : 'error';
            this.log[level]({ err: error }, 'inspection timer tick failed; next tick retries');
          })
          .finally(schedule);
      }, this.options.intervalMs ?? 1000);
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  /** Sends INSPECTION_ELAPSED for every milestone due now; returns how many. */
  async fireDue(limit = 200): Promise<number> {
    const due = await this.db('milestones')
      .where('state', 'AWAITING_RELEASE')
      .andWhere('inspection_deadline', '<=', this.settings.now())
      // Still waiting for a top-up: the payment that completes it releases it, not the timer.
      .andWhereRaw('held_minor >= amount_minor')
      .orderBy('inspection_deadline')
      .limit(limit)
      .select<{ order_id: string; milestone_id: string; inspection_deadline: Date }[]>(
        'order_id',
        'milestone_id',
        'inspection_deadline',
      );
    for (const row of due) {
      // One milestone that cannot be released must not hold back the others.
      try {
        await this.fire(row);
      } catch (error) {
        const level = isTransient(error) ? 'warn' : 'error';
        this.log[level](
          { err: error, orderId: row.order_id, milestoneId: row.milestone_id },
          'inspection release failed; the next tick tries again',
        );
      }
    }
    return due.length;
  }

  private async fire(row: { order_id: string; milestone_id: string; inspection_deadline: Date }) {
    // Percent-encoded like account codes: joined raw, orders "shop:42"/"m1" and
    // "shop"/"42:m1" due at one instant had one id, and the second was never released.
    const eventId =
      `inspection:${encodeURIComponent(row.order_id)}:${encodeURIComponent(row.milestone_id)}:` +
      row.inspection_deadline.toISOString();
    const event = {
      topic: 'timer.inspection',
      partition: null,
      offset: null,
      occurredAt: row.inspection_deadline,
      command: {
        type: 'INSPECTION_ELAPSED' as const,
        eventId,
        orderId: row.order_id,
        milestoneId: row.milestone_id,
      },
    };
    const result = await (this.options.tracing ?? untraced).ownEvent(event, (traced) =>
      applyEvent(this.db, this.settings, traced),
    );
    this.log.info(
      { orderId: row.order_id, milestoneId: row.milestone_id, verdict: result.verdict },
      'inspection period elapsed',
    );
  }
}
