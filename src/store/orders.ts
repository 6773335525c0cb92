/**
 * An order as a slice reads it, and the one failure of writing it back:
 * milestones are written guarded by the version each was read at
 * (`UPDATE ... WHERE version = <read version>`, order-writes.ts). A writer
 * that lost a race finds no row to update and gets a VersionConflict
 * (retryable: the slice is decided again on what is stored now). This guard,
 * not the Redis lock, is what makes two commands on one milestone take
 * effect at most once.
 */
import type { Milestone, Order } from '../domain/escrow';

export class VersionConflict extends Error {
  readonly code = 'VERSION_CONFLICT';
  readonly retryable = true;
  constructor(
    readonly orderId: string,
    readonly milestoneId: string,
    readonly readVersion: number,
  ) {
    super(
      `milestone ${orderId}/${milestoneId} changed after it was read at version ${readVersion}; ` +
        'the command is decided again on the stored state',
    );
    this.name = 'VersionConflict';
  }
}

export interface StoredOrder {
  order: Order | null;
  milestones: Milestone[];
}
