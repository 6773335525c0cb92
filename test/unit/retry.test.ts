import { isPermanent, withRetry } from '../../src/pipeline/retry';
import { LedgerError } from '../../src/ledger/errors';
import { VersionConflict } from '../../src/store/orders';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

test.each([
  ['a lost version race', new VersionConflict('o', 'm', 2)],
  ['a serialization failure', pgError('40001')],
  ['a deadlock', pgError('40P01')],
  ['a statement timeout', pgError('57014')],
  ['too many connections', pgError('53300')],
  ['a read-only database after failover', pgError('25006')],
  ['a refused connection', pgError('ECONNREFUSED')],
  ['a DNS failure', pgError('ENOTFOUND')],
  ['a DNS retry', pgError('EAI_AGAIN')],
  ['an unreachable network', pgError('ENETUNREACH')],
  [
    'an unreachable registry via fetch',
    new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }),
  ],
  ['an unknown error', new Error('something odd')],
])('%s is transient: retried, never dead-lettered', (_name, error) => {
  expect(isPermanent(error)).toBe(false);
});

test.each([
  ['a ledger refusal', new LedgerError('LEDGER_UNBALANCED', 'off by 1')],
  ['a data exception', pgError('22003')],
  ['an integrity violation', pgError('23514')],
  ['an undefined column', pgError('42703')],
  ['a programming error', new TypeError("Cannot read properties of undefined (reading 'x')")],
])('%s is permanent: dead-lettered with its reason', (_name, error) => {
  expect(isPermanent(error)).toBe(true);
});

test('retries transient failures with backoff until they pass, and stops at once on a permanent one', async () => {
  let calls = 0;
  const flaky = () => (++calls < 3 ? Promise.reject(pgError('40001')) : Promise.resolve('done'));
  await expect(withRetry(flaky, { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 })).resolves.toBe(
    'done',
  );
  expect(calls).toBe(3);

  let permanentCalls = 0;
  const broken = () => {
    permanentCalls++;
    return Promise.reject(pgError('23505'));
  };
  await expect(
    withRetry(broken, { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 }),
  ).rejects.toMatchObject({ code: '23505' });
  expect(permanentCalls).toBe(1);
});

test('gives up after the attempts or the time budget, whichever comes first', async () => {
  let calls = 0;
  const down = () => {
    calls++;
    return Promise.reject(pgError('ECONNREFUSED'));
  };
  await expect(
    withRetry(down, { attempts: 4, baseDelayMs: 1, maxDelayMs: 1 }),
  ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  expect(calls).toBe(4);
  // The budget, on a clock the test moves: the delays are 10 ms (the jitter pinned at
  // half the bound), so attempts run at 0, 10, ..., 50 ms and the one at 50 ms is the last.
  calls = 0;
  jest.useFakeTimers();
  const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
  try {
    const refused = expect(
      withRetry(down, { attempts: 1000, baseDelayMs: 20, maxDelayMs: 20, budgetMs: 50 }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await jest.advanceTimersByTimeAsync(200);
    await refused;
  } finally {
    random.mockRestore();
    jest.useRealTimers();
  }
  expect(calls).toBe(6);
});
