/**
 * Every check, in the order the report lists them: the ledger itself, then
 * milestones against it, payments, balances, and last what waits too long.
 */
import type { Check } from '../types';
import {
  balancesNotNegative,
  orphanedEscrowAccounts,
  runningBalancesMatchEntries,
} from './accounts';
import { ledgerNetsToZero, transactionsNetToZero } from './ledger-netting';
import { milestoneMatchesLedger } from './milestone-ledger';
import { milestoneConservation, milestoneState } from './milestone-rows';
import { ledgerTransactionsHaveOutcomes } from './outcomes';
import { paymentsInLedgerOnce } from './payments';
import { ledgerReceiptsNameAPayment } from './receipts';
import { releasesMatchLedger } from './releases';
import { stuckFunds } from './stuck-funds';
import { keptEventsUnreplayed, outboxUnpublished, unmatchedPayments } from './waiting';

export const allChecks: readonly Check[] = [
  transactionsNetToZero,
  ledgerNetsToZero,
  milestoneConservation,
  milestoneMatchesLedger,
  milestoneState,
  releasesMatchLedger,
  paymentsInLedgerOnce,
  ledgerReceiptsNameAPayment,
  balancesNotNegative,
  runningBalancesMatchEntries,
  orphanedEscrowAccounts,
  unmatchedPayments,
  keptEventsUnreplayed,
  outboxUnpublished,
  ledgerTransactionsHaveOutcomes,
  stuckFunds,
];
