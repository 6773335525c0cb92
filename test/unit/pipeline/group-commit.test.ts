/**
 * How GroupCommit groups slices and hands results back. Pure: the "apply" here
 * records its calls; the database behaviour of a group (one applyBatch over
 * mixed topics and partitions) is covered by test/integration/apply-batch.test.ts.
 */
import { GroupCommit } from '../../../src/pipeline/group-commit';

/** An apply that answers "<item>!" for each item and records what each call got. */
function recorder(fail?: (items: readonly string[]) => Error | undefined) {
  const calls: string[][] = [];
  const apply = (items: readonly string[]) => {
    calls.push([...items]);
    const error = fail?.(items);
    return error ? Promise.reject(error) : Promise.resolve(items.map((item) => `${item}!`));
  };
  return { calls, apply };
}

const noHeartbeat = () => undefined;

test('slices handed over in the same turn are applied in one call, and each gets its own results', async () => {
  const { calls, apply } = recorder();
  const groups = new GroupCommit<string, string>(10, apply);
  const results = await Promise.all([
    groups.submit(['a1', 'a2'], noHeartbeat),
    groups.submit(['b1'], noHeartbeat),
    groups.submit(['c1', 'c2', 'c3'], noHeartbeat),
  ]);
  expect(calls).toEqual([['a1', 'a2', 'b1', 'c1', 'c2', 'c3']]);
  expect(results).toEqual([['a1!', 'a2!'], ['b1!'], ['c1!', 'c2!', 'c3!']]);
});

test('a group never holds more than the limit: a slice that would pass it starts the next group', async () => {
  const { calls, apply } = recorder();
  const groups = new GroupCommit<string, string>(4, apply);
  const results = await Promise.all([
    groups.submit(['a1', 'a2', 'a3'], noHeartbeat),
    groups.submit(['b1'], noHeartbeat),
    groups.submit(['c1', 'c2'], noHeartbeat),
    groups.submit(['d1', 'd2', 'd3', 'd4', 'd5'], noHeartbeat),
  ]);
  expect(calls).toEqual([
    ['a1', 'a2', 'a3', 'b1'],
    ['c1', 'c2'],
    ['d1', 'd2', 'd3', 'd4', 'd5'],
  ]);
  expect(results).toEqual([
    ['a1!', 'a2!', 'a3!'],
    ['b1!'],
    ['c1!', 'c2!'],
    ['d1!', 'd2!', 'd3!', 'd4!', 'd5!'],
  ]);
});

test('a slice handed over in a later turn goes in a group of its own', async () => {
  const { calls, apply } = recorder();
  const groups = new GroupCommit<string, string>(10, apply);
  const first = groups.submit(['a1'], noHeartbeat);
  await new Promise((resolve) => setImmediate(resolve));
  const second = groups.submit(['b1'], noHeartbeat);
  await Promise.all([first, second]);
  expect(calls).toEqual([['a1'], ['b1']]);
});

test('a failed group is applied again slice by slice, and only the slice at fault gets the error', async () => {
  const refused = new Error('b2 is refused');
  const { calls, apply } = recorder((items) => (items.includes('b2') ? refused : undefined));
  const groups = new GroupCommit<string, string>(10, apply);
  const outcomes = await Promise.allSettled([
    groups.submit(['a1'], noHeartbeat),
    groups.submit(['b1', 'b2'], noHeartbeat),
    groups.submit(['c1'], noHeartbeat),
  ]);
  expect(calls).toEqual([['a1', 'b1', 'b2', 'c1'], ['a1'], ['b1', 'b2'], ['c1']]);
  expect(outcomes).toEqual([
    { status: 'fulfilled', value: ['a1!'] },
    { status: 'rejected', reason: refused },
    { status: 'fulfilled', value: ['c1!'] },
  ]);
});

test('a lone slice that fails gets the error, without a second attempt', async () => {
  const refused = new Error('refused');
  const { calls, apply } = recorder(() => refused);
  const groups = new GroupCommit<string, string>(10, apply);
  await expect(groups.submit(['a1'], noHeartbeat)).rejects.toBe(refused);
  expect(calls).toEqual([['a1']]);
});

test("the group's heartbeat keeps every member's session alive", async () => {
  const beats: string[] = [];
  const groups = new GroupCommit<string, string>(10, (items, heartbeat) => {
    heartbeat();
    return Promise.resolve(items.map((item) => `${item}!`));
  });
  await Promise.all([
    groups.submit(['a1'], () => beats.push('a')),
    groups.submit(['b1'], () => beats.push('b')),
  ]);
  expect(beats).toEqual(['a', 'b']);
});
