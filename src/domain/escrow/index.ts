export * from './types';
export * from './commands';
export { accounts, accountCode } from './accounts';
export type { DecisionContext, Rejection } from './context';
export { decide } from './decide';
export { derivedState, committed, stillNeeded } from './milestone';
export { isReleasable } from './release';
export {
  dedupeKey,
  isSettlement,
  paymentKey,
  inboxVerdict,
  substanceBeforeVersion2,
  substanceOf,
  type InboxVerdict,
} from './idempotency';
