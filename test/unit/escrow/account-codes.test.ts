import { accountCode, accounts } from '../../../src/domain/escrow';

test('account codes: kind and currency, then the order and milestone or the party', () => {
  expect(accountCode(accounts.escrowHold('USD', 'order-1', 'm-1'))).toBe(
    'ESCROW_HOLD:USD:order-1:m-1',
  );
  expect(accountCode(accounts.providerPayable('EUR', 'provider-7'))).toBe(
    'PROVIDER_PAYABLE:EUR:provider-7',
  );
  expect(accountCode(accounts.platformRevenue('JPY'))).toBe('PLATFORM_REVENUE:JPY');
});

test('an id holding ":" or non-ASCII text is percent-encoded, so codes stay unambiguous', () => {
  expect(accountCode(accounts.disputedFunds('USD', 'a:b', 'm:1'))).toBe(
    'DISPUTED_FUNDS:USD:a%3Ab:m%3A1',
  );
  expect(accountCode(accounts.buyerRefundPayable('USD', 'käufer'))).toBe(
    'BUYER_REFUND_PAYABLE:USD:k%C3%A4ufer',
  );
  // Two different pairs of ids never share a code.
  expect(accountCode(accounts.escrowHold('USD', 'a:b', 'c'))).not.toBe(
    accountCode(accounts.escrowHold('USD', 'a', 'b:c')),
  );
});
