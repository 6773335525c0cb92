/** The bench's lock waits by kind: which lock a waiting session's wait_event names, and a sample's parts. */
import { lockKindOf, lockWaitParts } from '../../../src/bench/db-activity';

const session = (waitEventType: string | null, waitEvent: string | null) => ({
  wait_event_type: waitEventType,
  wait_event: waitEvent,
});

test('advisory, row and table locks are named; every other lock is other', () => {
  expect(lockKindOf('advisory')).toBe('advisory');
  expect(lockKindOf('transactionid')).toBe('transactionid');
  expect(lockKindOf('tuple')).toBe('tuple');
  expect(lockKindOf('relation')).toBe('relation');
  expect(lockKindOf('virtualxid')).toBe('other');
  expect(lockKindOf('extend')).toBe('other');
  expect(lockKindOf('other')).toBe('other');
  expect(lockKindOf(null)).toBe('other');
});

test('a sample counts once, shared equally between the lock waits it saw; other waits are not locks', () => {
  const parts = lockWaitParts([
    session('Lock', 'advisory'),
    session('Lock', 'transactionid'),
    session('Lock', 'transactionid'),
    session('Lock', 'tuple'),
    session('IO', 'WALSync'),
    session('LWLock', 'LockManager'),
    session(null, null),
  ]);
  expect(Object.fromEntries(parts)).toEqual({ advisory: 0.25, transactionid: 0.5, tuple: 0.25 });
  expect([...parts.values()].reduce((sum, part) => sum + part, 0)).toBe(1);
});

test('a sample without a lock wait adds nothing', () => {
  expect(lockWaitParts([session('IO', 'WALSync'), session(null, null)]).size).toBe(0);
  expect(lockWaitParts([]).size).toBe(0);
});
