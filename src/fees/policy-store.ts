/**
 * Fee policy versions in fee_policies: listing them, and adding one.
 *
 * Adding is validate-then-insert, and two operators adding at once must not
 * both pass validation against the same old list (two versions at one
 * instant, or one slipped in before a later one). So the add takes
 * SHARE ROW EXCLUSIVE on the table for its transaction: it conflicts with
 * itself and with every insert, but not with the plain reads with which the
 * worker looks up the policy in force, so releases never wait on an add. The
 * clock is read after the lock is granted: a version checked "not in the
 * past" is checked against the moment it becomes visible, not the moment the
 * operator pressed enter.
 */
import type { Knex } from 'knex';
import {
  type FeePolicy,
  FeePolicyError,
  assertValidPolicy,
  validateNewPolicy,
} from '../domain/fees';
import { toFeePolicy } from '../pipeline/fee-context';
import type { NewFeePolicy } from './policy-input';

export type StoredFeePolicy = FeePolicy & {
  readonly policyId: number;
  readonly note: string | null;
  readonly createdAt: Date;
};

interface FeePolicyRow {
  policy_id: number;
  effective_from: Date;
  rate: string;
  minimum_fees: Record<string, string>;
  volume_tiers: { minVolume: string; rate: string }[];
  volume_window_days: number;
  dispute_fees: Record<string, string>;
  note: string | null;
  created_at: Date;
}

const toStored = (row: FeePolicyRow): StoredFeePolicy => ({
  ...toFeePolicy(row),
  policyId: row.policy_id,
  note: row.note,
  createdAt: row.created_at,
});

/** Every stored version, earliest effective first. */
export async function listFeePolicies(db: Knex | Knex.Transaction): Promise<StoredFeePolicy[]> {
  const rows = await db<FeePolicyRow>('fee_policies').orderBy('effective_from').select('*');
  return rows.map(toStored);
}

export interface AddOptions {
  /** Read once the lock is held; the process clock by default, as the worker's. */
  readonly clock?: () => Date;
  /** Validate against the stored versions under the lock, store nothing. */
  readonly dryRun?: boolean;
}

export type AddResult =
  | { readonly stored: true; readonly policy: StoredFeePolicy }
  | { readonly stored: false; readonly policy: NewFeePolicy };

/** Stores `candidate` if it may be (validateNewPolicy); FeePolicyError naming the rule otherwise. */
export async function addFeePolicy(
  db: Knex,
  candidate: NewFeePolicy,
  options: AddOptions = {},
): Promise<AddResult> {
  // The field rules need no lock and list every problem at once.
  assertValidPolicy(candidate);
  const clock = options.clock ?? (() => new Date());
  return db.transaction(async (trx): Promise<AddResult> => {
    await trx.raw('LOCK TABLE fee_policies IN SHARE ROW EXCLUSIVE MODE');
    const existing = await listFeePolicies(trx);
    validateNewPolicy(existing, candidate, clock());
    if (options.dryRun === true) return { stored: false, policy: candidate };
    try {
      const [row] = await trx('fee_policies')
        .insert({
          effective_from: candidate.effectiveFrom,
          rate: candidate.rate,
          // jsonb: serialised here, or pg would send a JS array as a Postgres array.
          minimum_fees: JSON.stringify(candidate.minimumFees),
          volume_tiers: JSON.stringify(candidate.volumeTiers),
          volume_window_days: candidate.volumeWindowDays,
          dispute_fees: JSON.stringify(candidate.disputeFees),
          note: candidate.note,
        })
        .returning<FeePolicyRow[]>('*');
      return { stored: true, policy: toStored(row!) };
    } catch (error) {
      throw uniqueViolationAsOverlap(error, candidate);
    }
  });
}

// The unique effective_from is the backstop should a writer ever skip the lock.
function uniqueViolationAsOverlap(error: unknown, candidate: NewFeePolicy): unknown {
  if ((error as { code?: unknown }).code !== '23505') return error;
  return new FeePolicyError(
    'FEE_POLICY_OVERLAP',
    `a fee policy already starts at ${candidate.effectiveFrom.toISOString()} (FEE_POLICY_OVERLAP): ` +
      'a new version must start after the latest existing one; choose a later effectiveFrom',
    { cause: error },
  );
}
