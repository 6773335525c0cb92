/**
 * allocate refuses a split it cannot make and says how to ask instead: a
 * negative weight (use zero for a part that gets nothing), no positive weight
 * (nothing to split by), parts in another currency than the total.
 */
import { allocate, allocateByAmounts, money } from '../../../src/domain/money';
import { expectMoneyError } from '../money/expect-money-error';

const usd = (minor: bigint) => money('USD', minor);

test('a negative weight is refused: use zero for a part that should get nothing', () => {
  expectMoneyError(
    () => allocate(usd(100n), [1n, -1n]),
    'INVALID_AMOUNT',
    'allocation weights must not be negative',
    'use zero for a part that should get nothing',
  );
});

test('no positive weight is refused: there is no proportion to split by', () => {
  expectMoneyError(
    () => allocate(usd(100n), [0n, 0n]),
    'INVALID_AMOUNT',
    'allocation needs at least one positive weight',
    'with every weight zero there is no proportion to split by',
  );
});

test('parts in another currency are refused naming both currencies', () => {
  expectMoneyError(
    () => allocateByAmounts(usd(100n), [usd(60n), money('EUR', 40n)]),
    'CURRENCY_MISMATCH',
    'cannot allocate USD by amounts in EUR',
    'the total and the parts it is split by must share a currency',
  );
});
