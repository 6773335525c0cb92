/**
 * Reconciliation: checks every invariant of DESIGN.md (and the CONTRACT.md
 * rules a database can show) against the database, and says what it found.
 * `npm run reconcile` prints it; the operations API serves it as JSON.
 *
 * What is checked (each check is set-based SQL over chunks of its table, with
 * progress, all in one read-only repeatable-read snapshot):
 *   transactions_net_to_zero, ledger_nets_to_zero       invariant 1
 *   ledger_chain_intact                                 the ledger's hash chain (tamper evidence)
 *   milestone_conservation, milestone_matches_ledger,
 *   milestone_state, releases_match_ledger              invariant 2 and the milestone states
 *   payments_in_ledger_once, ledger_receipts_name_a_payment   invariant 3
 *   balances_not_negative, running_balances_match_entries     the ledger's account rules
 *   orphaned_escrow_accounts, payables_match_open_requests    invariant 4 (never nowhere)
 *   requests_settled_once, receivables_match_chargebacks,
 *   chargebacks_match_ledger, gateway_clearing_matches_money_moved   invariant 6
 *   unmatched_payments, kept_events_unreplayed,
 *   settlements_kept                                    kept payments/events/settlements past a threshold
 *   outbox_unpublished, ledger_transactions_have_outcomes,
 *   settlements_have_outcomes                           invariant 5
 *   stuck_funds                                         funds held past a threshold, by age
 *   disbursements_unsettled, disbursements_failed_not_retried   payouts and refunds waiting
 *   receivables_outstanding                             receivables owed past a threshold, by age
 *   settlements_refused                                 INVALID_STATE / SETTLEMENT_MISMATCH refusals
 *
 * Thresholds (defaults): unmatched payments, kept events and kept settlements
 * 1 h; unpublished outbox rows 5 min; stuck funds 30 days; outcomes checked
 * for the last 6 days (the relay prunes published rows after 7); payouts and
 * refunds unsettled 3 days, failed and not retried 1 day; receivables owed 30
 * days; refused settlements listed for 7 days. A finding past a threshold is
 * a discrepancy like any other: the report is clean only when every check
 * found nothing.
 *
 * Usage: `const report = await runReconciliation(db, { onProgress })`;
 * `report.clean`, `report.checks[i].examples`; `formatReport(report)` for people.
 * Everything in a report is JSON-serializable (amounts as "1000.00 USD").
 */
export { runReconciliation } from './run';
export { formatReport } from './format-report';
export { ReconcileError, type ReconcileErrorCode } from './errors';
export { allChecks } from './checks';
export { parseDuration, durationText, DurationError } from './text';
export {
  defaultReconcileOptions,
  type AgeBucket,
  type CheckResult,
  type Discrepancy,
  type ReceivableAgeBucket,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconciliationReport,
  type ReconciliationTotals,
} from './types';
