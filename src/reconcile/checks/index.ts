/**
 * Every check, in the order the report lists them: the ledger itself, then
 * milestones against it, payments, balances, the money loop after escrow
 * (payables, settlements, receivables, chargebacks, gateway clearing), and
 * last what waits too long.
 */
import type { Check } from '../types';
import {
  balancesNotNegative,
  orphanedEscrowAccounts,
  runningBalancesMatchEntries,
} from './accounts';
import { chargebacksMatchLedger } from './chargebacks';
import { disbursementsFailedNotRetried, disbursementsUnsettled } from './disbursements';
import { gatewayClearingMatchesMoneyMoved } from './gateway-clearing';
import { settlementsKept } from './kept-settlements';
import { ledgerChainIntact } from './ledger-chain';
import { ledgerNetsToZero, transactionsNetToZero } from './ledger-netting';
import { milestoneMatchesLedger } from './milestone-ledger';
import { milestoneConservation, milestoneState } from './milestone-rows';
import { ledgerTransactionsHaveOutcomes, settlementsHaveOutcomes } from './outcomes';
import { payablesMatchOpenRequests } from './payables';
import { paymentsInLedgerOnce } from './payments';
import { ledgerReceiptsNameAPayment } from './receipts';
import { receivablesMatchChargebacks, receivablesOutstanding } from './receivables';
import { settlementsRefused } from './refused-settlements';
import { releasesMatchLedger } from './releases';
import { requestsSettledOnce } from './settlements';
import { stuckFunds } from './stuck-funds';
import { keptEventsUnreplayed, outboxUnpublished, unmatchedPayments } from './waiting';

export const allChecks: readonly Check[] = [
  transactionsNetToZero,
  ledgerNetsToZero,
  ledgerChainIntact,
  milestoneConservation,
  milestoneMatchesLedger,
  milestoneState,
  releasesMatchLedger,
  paymentsInLedgerOnce,
  ledgerReceiptsNameAPayment,
  balancesNotNegative,
  runningBalancesMatchEntries,
  orphanedEscrowAccounts,
  payablesMatchOpenRequests,
  requestsSettledOnce,
  receivablesMatchChargebacks,
  chargebacksMatchLedger,
  gatewayClearingMatchesMoneyMoved,
  unmatchedPayments,
  keptEventsUnreplayed,
  settlementsKept,
  outboxUnpublished,
  ledgerTransactionsHaveOutcomes,
  settlementsHaveOutcomes,
  stuckFunds,
  disbursementsUnsettled,
  disbursementsFailedNotRetried,
  receivablesOutstanding,
  settlementsRefused,
];
