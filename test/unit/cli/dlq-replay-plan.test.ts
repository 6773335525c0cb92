/**
 * Which dead letters a replay sends: all-or-nothing by id, the pending ones
 * with --all, and why the rest are skipped. Pure: entries and their states
 * are given.
 */
import type { DeadLetterEntry } from '../../../src/dlq/dead-letter';
import { deadLetterTable, planText } from '../../../src/dlq/format-dead-letters';
import { planReplay } from '../../../src/dlq/replay-dead-letters';
import type { ReplayState } from '../../../src/dlq/replay-state';

const prefix = 'p-';
const entry = (
  id: string,
  reason: string,
  topic = 'escrow.payment-confirmed.v1',
): DeadLetterEntry => {
  const [partition, offset] = id.split(':') as [string, string];
  return {
    id,
    dlqTopic: `${prefix}escrow.dlq.v1`,
    partition: Number(partition),
    offset,
    sourceTopic: `${prefix}${topic}`,
    sourcePartition: 0,
    sourceOffset: '12',
    reason,
    deadLetteredAt: '2026-11-20T10:00:00.000Z',
    originalKey: Buffer.from(`order-${id}`),
    originalValue: Buffer.from([0, 0, 0, 0, 1, 2]),
    originalHeaders: {},
  };
};

const entries = [
  entry('0:1', 'processing failed: defect'),
  entry('0:2', 'the value is not in the Confluent wire format', 'escrow.orders.v1'),
  entry('1:1', 'processing failed: defect'),
  entry('1:2', 'no value'),
];
const states: ReplayState[] = [
  { state: 'pending', inboxKey: 'payment:stripe:a' },
  { state: 'invalid', why: 'not in the wire format' },
  { state: 'done', inboxKey: 'payment:stripe:b', outcome: 'APPLIED', reason: null },
  { state: 'unreplayable', why: 'it has no original value (a tombstone)' },
];
const ids = (list: readonly { entry: DeadLetterEntry }[]) => list.map((item) => item.entry.id);

describe('by id', () => {
  test('sends what was asked, in the order asked, including an already processed one', () => {
    const plan = planReplay(entries, states, { ids: ['1:1', '0:1'] }, prefix);
    expect(ids(plan.send)).toEqual(['1:1', '0:1']);
    expect(planText(plan, prefix, true)).toContain(
      'would replay 1:1 → escrow.payment-confirmed.v1@0 key order-1:1 (already processed: the inbox makes it a duplicate)',
    );
  });

  test('an unknown id refuses the whole request, naming every unknown id', () => {
    expect(() => planReplay(entries, states, { ids: ['0:1', '5:5', '0:9'] }, prefix)).toThrow(
      expect.objectContaining({
        code: 'DLQ_UNKNOWN_ID',
        message: expect.stringContaining('No DLQ entry 5:5, 0:9 in p-escrow.dlq.v1') as string,
      }) as Error,
    );
  });

  test('an invalid entry is refused unless forced; an unreplayable one always', () => {
    expect(() => planReplay(entries, states, { ids: ['0:1', '0:2'] }, prefix)).toThrow(
      /Nothing was replayed: 0:2 would be dead-lettered again: not in the wire format/,
    );
    expect(ids(planReplay(entries, states, { ids: ['0:2'], force: true }, prefix).send)).toEqual([
      '0:2',
    ]);
    expect(() => planReplay(entries, states, { ids: ['1:2'], force: true }, prefix)).toThrow(
      expect.objectContaining({ code: 'DLQ_NOT_REPLAYABLE' }) as Error,
    );
  });

  test('the refusal of an unreplayable entry says --force does not help, not to pass it', () => {
    expect(() => planReplay(entries, states, { ids: ['1:2'] }, prefix)).toThrow(
      'Nothing was replayed: 1:2: it has no original value (a tombstone). ' +
        'Leave the unreplayable entries out of --id; --force does not send them',
    );
    expect(() => planReplay(entries, states, { ids: ['0:2'] }, prefix)).toThrow(/pass --force/);
  });
});

describe('--all', () => {
  test('sends the pending entries and says why it skipped each other one', () => {
    const plan = planReplay(entries, states, { all: true, filter: {} }, prefix);
    expect(ids(plan.send)).toEqual(['0:1']);
    expect(plan.skipped.map((item) => [item.entry.id, item.why])).toEqual([
      ['0:2', 'would be dead-lettered again: not in the wire format'],
      ['1:1', expect.stringContaining('already processed (inbox payment:stripe:b: APPLIED)')],
      ['1:2', 'it has no original value (a tombstone)'],
    ]);
  });

  test('--force adds the invalid ones; filters narrow by reason and source topic', () => {
    const forced = planReplay(entries, states, { all: true, filter: {}, force: true }, prefix);
    expect(ids(forced.send)).toEqual(['0:1', '0:2']);
    const byTopic = {
      all: true as const,
      filter: { sourceTopic: 'escrow.orders.v1' },
      force: true,
    };
    expect(ids(planReplay(entries, states, byTopic, prefix).send)).toEqual(['0:2']);
    const byReason = { all: true as const, filter: { reason: 'PROCESSING' } };
    const plan = planReplay(entries, states, byReason, prefix);
    expect([...ids(plan.send), ...ids(plan.skipped)]).toEqual(['0:1', '1:1']);
  });
});

test('the table keeps both ends of a long reason and drops the prefix from topics', () => {
  const long = entry(
    '0:3',
    `processing failed: insert into "payments" ${'x'.repeat(200)} - the real cause`,
  );
  const table = deadLetterTable([long], [states[0]], prefix);
  expect(table.split('\n')[2]).toMatch(
    /^0:3 {2}2026-11-20T10:00:00Z {2}escrow\.payment-confirmed\.v1@0:12 {2}order-0:3 {2}pending {2}processing failed: .*….* - the real cause$/,
  );
});
