/**
 * The age buckets stuck_funds and receivables_outstanding share: the standard
 * boundaries with the check's own threshold among them, and the tally that
 * adds amounts per currency exactly (bigint minor units) into labelled buckets.
 */
import { AgeTally, ageBoundaries } from '../../../src/reconcile/checks/ages';

const day = 86_400_000;

test('the threshold joins the standard boundaries once, in order; a zero threshold adds none', () => {
  expect(ageBoundaries(30 * day)).toEqual([day, 7 * day, 30 * day, 90 * day, 180 * day]);
  expect(ageBoundaries(45 * day)).toEqual([day, 7 * day, 30 * day, 45 * day, 90 * day, 180 * day]);
  expect(ageBoundaries(3_600_000)).toEqual([
    3_600_000,
    day,
    7 * day,
    30 * day,
    90 * day,
    180 * day,
  ]);
  expect(ageBoundaries(0)).toEqual([day, 7 * day, 30 * day, 90 * day, 180 * day]);
});

test('every bucket is listed, empty ones too, with counts and exact amounts per currency', () => {
  const boundaries = ageBoundaries(30 * day);
  const tally = new AgeTally();
  tally.add(0, 'USD', 45_000n);
  tally.add(0, 'USD', 1n);
  tally.add(0, 'JPY', 5n);
  tally.add(5, 'USD', 900_719_925_474_099_300n);
  expect(tally.byAge(boundaries)).toEqual([
    { label: '< 1d', fromMs: 0, toMs: day, count: 3, amounts: ['5 JPY', '450.01 USD'] },
    { label: '1d–7d', fromMs: day, toMs: 7 * day, count: 0, amounts: [] },
    { label: '7d–30d', fromMs: 7 * day, toMs: 30 * day, count: 0, amounts: [] },
    { label: '30d–90d', fromMs: 30 * day, toMs: 90 * day, count: 0, amounts: [] },
    { label: '90d–180d', fromMs: 90 * day, toMs: 180 * day, count: 0, amounts: [] },
    {
      label: '≥ 180d',
      fromMs: 180 * day,
      toMs: null,
      count: 1,
      amounts: ['9007199254740993.00 USD'],
    },
  ]);
});
