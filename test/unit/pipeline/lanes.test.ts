/**
 * How Lanes group slices, hand results back and keep each lane to one piece
 * of work at a time. Pure: the "apply" here records its calls; the database
 * behaviour of a group (one applyBatch over mixed topics) is covered by
 * test/integration/apply-batch.test.ts, and the lanes through Kafka by
 * test/integration/lanes-kafka.test.ts.
 */
import { Lanes } from '../../../src/pipeline/lanes';

/**
 * An apply that answers "<item>!" for each item and records what each call
 * got, and how many ran at once per lane (the item's first letter after the
 * lane digit). A call waits until releaseAll() while the recorder is held, or
 * when `gated` says so of its items.
 */
function recorder(
  fail?: (items: readonly string[]) => Error | undefined,
  gated?: (items: readonly string[]) => boolean,
) {
  const calls: string[][] = [];
  const running = new Map<string, number>();
  let mostAtOnceInALane = 0;
  let mostAtOnce = 0;
  const gates: (() => void)[] = [];
  let held = false;
  const apply = async (items: readonly string[]) => {
    calls.push([...items]);
    const lane = items[0]!.slice(0, 1);
    running.set(lane, (running.get(lane) ?? 0) + 1);
    mostAtOnceInALane = Math.max(mostAtOnceInALane, running.get(lane)!);
    mostAtOnce = Math.max(
      mostAtOnce,
      [...running.values()].reduce((a, b) => a + b, 0),
    );
    if (held || gated?.(items)) await new Promise<void>((resolve) => gates.push(resolve));
    else await new Promise((resolve) => setImmediate(resolve));
    running.set(lane, running.get(lane)! - 1);
    const error = fail?.(items);
    if (error) throw error;
    return items.map((item) => `${item}!`);
  };
  return {
    calls,
    apply,
    hold: () => (held = true),
    releaseAll: () => {
      held = false;
      gates.splice(0).forEach((open) => open());
    },
    atOnce: () => ({ inALane: mostAtOnceInALane, overall: mostAtOnce }),
  };
}

const noHeartbeat = () => undefined;
const turn = () => new Promise((resolve) => setImmediate(resolve));
const turns = async (count: number) => {
  for (let round = 0; round < count; round++) await turn();
};

test('slices handed to one lane in the same turn are applied in one call, and each gets its own results', async () => {
  const { calls, apply } = recorder();
  const lanes = new Lanes<string, string>(10, apply);
  const results = await Promise.all([
    lanes.submit(0, ['0a1', '0a2'], noHeartbeat),
    lanes.submit(0, ['0b1'], noHeartbeat),
    lanes.submit(0, ['0c1', '0c2', '0c3'], noHeartbeat),
  ]);
  expect(calls).toEqual([['0a1', '0a2', '0b1', '0c1', '0c2', '0c3']]);
  expect(results).toEqual([['0a1!', '0a2!'], ['0b1!'], ['0c1!', '0c2!', '0c3!']]);
});

test('a group never holds more than the limit: a slice that would pass it starts the next group', async () => {
  const { calls, apply } = recorder();
  const lanes = new Lanes<string, string>(4, apply);
  const results = await Promise.all([
    lanes.submit(1, ['1a1', '1a2', '1a3'], noHeartbeat),
    lanes.submit(1, ['1b1'], noHeartbeat),
    lanes.submit(1, ['1c1', '1c2'], noHeartbeat),
    lanes.submit(1, ['1d1', '1d2', '1d3', '1d4', '1d5'], noHeartbeat),
  ]);
  expect(calls).toEqual([
    ['1a1', '1a2', '1a3', '1b1'],
    ['1c1', '1c2'],
    ['1d1', '1d2', '1d3', '1d4', '1d5'],
  ]);
  expect(results).toEqual([
    ['1a1!', '1a2!', '1a3!'],
    ['1b1!'],
    ['1c1!', '1c2!'],
    ['1d1!', '1d2!', '1d3!', '1d4!', '1d5!'],
  ]);
});

test('what a busy lane gathers meanwhile goes in its next transaction, after the running one', async () => {
  const { calls, apply, hold, releaseAll } = recorder();
  const lanes = new Lanes<string, string>(10, apply);
  hold();
  const first = lanes.submit(2, ['2a1'], noHeartbeat);
  await turn();
  expect(calls).toEqual([['2a1']]);
  const later = [lanes.submit(2, ['2b1'], noHeartbeat), lanes.submit(2, ['2c1'], noHeartbeat)];
  await turn();
  expect(calls).toEqual([['2a1']]); // nothing beside the running one
  releaseAll();
  await Promise.all([first, ...later]);
  expect(calls).toEqual([['2a1'], ['2b1', '2c1']]);
});

test('different lanes run beside each other; one lane never runs two things at once', async () => {
  const { apply, hold, releaseAll, atOnce, calls } = recorder();
  const lanes = new Lanes<string, string>(1, apply);
  hold();
  const all = [0, 1, 2].flatMap((lane) =>
    ['a', 'b', 'c'].map((slice) => lanes.submit(lane, [`${lane}${slice}`], noHeartbeat)),
  );
  await turn();
  expect(calls.map((call) => call[0])).toEqual(['0a', '1a', '2a']);
  expect(lanes.busy).toBe(3);
  releaseAll();
  for (let round = 0; round < 5; round++) {
    await turn();
    releaseAll();
  }
  await Promise.all(all);
  expect(atOnce()).toEqual({ inALane: 1, overall: 3 });
  expect(lanes.busy).toBe(0);
});

test('a failed group is applied again slice by slice, in order, and only the slice at fault gets the error', async () => {
  const refused = new Error('3b2 is refused');
  const { calls, apply } = recorder((items) => (items.includes('3b2') ? refused : undefined));
  const lanes = new Lanes<string, string>(10, apply);
  const outcomes = await Promise.allSettled([
    lanes.submit(3, ['3a1'], noHeartbeat),
    lanes.submit(3, ['3b1', '3b2'], noHeartbeat),
    lanes.submit(3, ['3c1'], noHeartbeat),
  ]);
  expect(calls).toEqual([['3a1', '3b1', '3b2', '3c1'], ['3a1'], ['3b1', '3b2'], ['3c1']]);
  expect(outcomes).toEqual([
    { status: 'fulfilled', value: ['3a1!'] },
    { status: 'rejected', reason: refused },
    { status: 'fulfilled', value: ['3c1!'] },
  ]);
});

test('exclusive work runs after what the lane had before it and before what comes after, alone', async () => {
  const { calls, apply } = recorder();
  const lanes = new Lanes<string, string>(10, apply);
  const order: string[] = [];
  const before = lanes.submit(4, ['4a'], noHeartbeat).then(() => order.push('4a applied'));
  const alone = lanes.exclusive(4, async () => {
    order.push(`alone starts after ${calls.length} call(s)`);
    await turn();
    order.push('alone ends');
    return 'done';
  });
  const after = lanes.submit(4, ['4b'], noHeartbeat).then(() => order.push('4b applied'));
  await expect(alone).resolves.toBe('done');
  await Promise.all([before, after]);
  expect(calls).toEqual([['4a'], ['4b']]);
  expect(order).toEqual(['4a applied', 'alone starts after 1 call(s)', 'alone ends', '4b applied']);
});

test('a failing exclusive work rejects its caller only; the lane goes on', async () => {
  const { calls, apply } = recorder();
  const lanes = new Lanes<string, string>(10, apply);
  const failing = lanes.exclusive(5, () => Promise.reject(new Error('no')));
  const next = lanes.submit(5, ['5a'], noHeartbeat);
  await expect(failing).rejects.toThrow('no');
  await expect(next).resolves.toEqual(['5a!']);
  expect(calls).toEqual([['5a']]);
});

test('a heartbeat asked for during a group reaches every slice of it', async () => {
  const beats: string[] = [];
  const lanes = new Lanes<string, string>(10, (items, heartbeat) => {
    heartbeat();
    return Promise.resolve(items.map((item) => item));
  });
  await Promise.all([
    lanes.submit(6, ['6a'], () => beats.push('a')),
    lanes.submit(6, ['6b'], () => beats.push('b')),
  ]);
  expect(beats).toEqual(['a', 'b']);
});

test('idle lanes handed work in the same turn share one transaction, within the limit, each slice getting its own results', async () => {
  const { calls, apply } = recorder();
  const lanes = new Lanes<string, string>(4, apply);
  const results = await Promise.all([
    lanes.submit(0, ['0a1', '0a2'], noHeartbeat),
    lanes.submit(1, ['1a1', '1a2', '1a3'], noHeartbeat), // would pass the limit: its lane runs it
    lanes.submit(2, ['2a1'], noHeartbeat),
    lanes.submit(3, ['3a1'], noHeartbeat),
  ]);
  expect(calls).toEqual([
    ['0a1', '0a2', '2a1', '3a1'],
    ['1a1', '1a2', '1a3'],
  ]);
  expect(results).toEqual([['0a1!', '0a2!'], ['1a1!', '1a2!', '1a3!'], ['2a1!'], ['3a1!']]);
  await turn(); // the shared transaction's lender ends its drain after resolving it
  expect(lanes.busy).toBe(0);
});

test('nothing is taken from a lane that is running its own work: what it gathers waits for its transaction', async () => {
  const { calls, apply, hold, releaseAll } = recorder();
  const lanes = new Lanes<string, string>(10, apply);
  hold();
  const first = lanes.submit(0, ['0a'], noHeartbeat);
  await turn();
  const later = [lanes.submit(0, ['0b'], noHeartbeat), lanes.submit(1, ['1a'], noHeartbeat)];
  await turn();
  expect(calls).toEqual([['0a'], ['1a']]); // lane 1 did not take 0b from under lane 0's running transaction
  releaseAll();
  await turn();
  releaseAll();
  await Promise.all([first, ...later]);
  expect(calls).toEqual([['0a'], ['1a'], ['0b']]);
});

test("a lane lent to another lane's transaction starts nothing more until that transaction ends", async () => {
  const { calls, apply, hold, releaseAll, atOnce } = recorder();
  const lanes = new Lanes<string, string>(10, apply);
  hold();
  const together = [lanes.submit(0, ['0a'], noHeartbeat), lanes.submit(1, ['1a'], noHeartbeat)];
  await turn();
  expect(calls).toEqual([['0a', '1a']]);
  // Lane 1's own drain has found nothing left and ended; its slice is still in lane 0's transaction.
  expect(lanes.busy).toBe(2);
  const after = lanes.submit(1, ['1b'], noHeartbeat);
  const alone = lanes.exclusive(1, () => {
    calls.push(['1 alone']);
    return Promise.resolve('done');
  });
  await turns(3);
  expect(calls).toEqual([['0a', '1a']]); // lane 1's next work waits for the transaction that holds its first
  releaseAll();
  await turn();
  releaseAll();
  await Promise.all([...together, after, alone]);
  expect(calls).toEqual([['0a', '1a'], ['1b'], ['1 alone']]);
  expect(atOnce().overall).toBe(1);
  expect(lanes.busy).toBe(0);
});

test('a failed transaction of several lanes is applied again slice by slice; only the slice at fault gets the error', async () => {
  const refused = new Error('1b is refused');
  const { calls, apply } = recorder((items) => (items.includes('1b') ? refused : undefined));
  const lanes = new Lanes<string, string>(10, apply);
  const outcomes = await Promise.allSettled([
    lanes.submit(0, ['0a'], noHeartbeat),
    lanes.submit(1, ['1a', '1b'], noHeartbeat),
    lanes.submit(2, ['2a'], noHeartbeat),
  ]);
  expect(calls).toEqual([['0a', '1a', '1b', '2a'], ['0a'], ['1a', '1b'], ['2a']]);
  expect(outcomes).toEqual([
    { status: 'fulfilled', value: ['0a!'] },
    { status: 'rejected', reason: refused },
    { status: 'fulfilled', value: ['2a!'] },
  ]);
});

// Found in review: the interleavings of borrowing that the cases above leave open.

// Catches: a drain that does not wait for `lent` when it starts with work in a queue
// that borrowing emptied (enqueue pushed onto the empty array left in the map, so no
// second drain was scheduled); and a "cleanup" that deletes emptied queues in borrow()
// (which would give lane 1 a second drain).
test('work pushed onto a lent lane whose drain is still pending waits for the lending transaction', async () => {
  let first = true;
  const rec = recorder(undefined, (items) => items.includes('0a'));
  let late: Promise<string[]> | undefined;
  let queueOfLane1WhenLateArrived: unknown = 'not seen';
  const lanes: Lanes<string, string> = new Lanes<string, string>(10, (items) => {
    const done = rec.apply(items);
    if (first) {
      first = false;
      // Runs after lane 0's setImmediate callback and before lane 1's (same check phase).
      queueMicrotask(() => {
        // A copy: the queue itself takes 1b just below.
        queueOfLane1WhenLateArrived = [
          ...(lanes as unknown as { queues: Map<number, unknown[]> }).queues.get(1)!,
        ];
        late = lanes.submit(1, ['1b'], noHeartbeat);
      });
    }
    return done;
  });
  const together = [lanes.submit(0, ['0a'], noHeartbeat), lanes.submit(1, ['1a'], noHeartbeat)];
  await turns(3);
  expect(queueOfLane1WhenLateArrived).toEqual([]); // the scenario: emptied by borrowing, still in the map
  expect(rec.calls).toEqual([['0a', '1a']]);
  rec.releaseAll();
  await Promise.all([...together, late!]);
  expect(rec.calls).toEqual([['0a', '1a'], ['1b']]);
  expect(rec.atOnce().overall).toBe(1);
  await turn();
  expect(lanes.busy).toBe(0);
});

// Catches: the lent check placed after the exclusive branch in drain(). The existing
// test queues [1b, exclusive] so a slice is at the head and hides that regression;
// slice-handler's fallback produces exactly an exclusive job at the head of a lent lane.
test("an exclusive job at the head of a lent lane's queue waits for the lending transaction", async () => {
  const rec = recorder(undefined, (items) => items.includes('0a'));
  const lanes = new Lanes<string, string>(10, rec.apply);
  const together = [lanes.submit(0, ['0a'], noHeartbeat), lanes.submit(1, ['1a'], noHeartbeat)];
  await turn();
  expect(rec.calls).toEqual([['0a', '1a']]);
  const alone = lanes.exclusive(1, () => {
    rec.calls.push(['1 alone']);
    return Promise.resolve('done');
  });
  await turns(3);
  expect(rec.calls).toEqual([['0a', '1a']]);
  rec.releaseAll();
  await Promise.all([...together, alone]);
  expect(rec.calls).toEqual([['0a', '1a'], ['1 alone']]);
});

// Catches: lent lanes released when the shared group fails rather than when its
// slice-by-slice re-application ends. Mirrors slice-handler: a refused slice's
// caller queues its fallback with exclusive() on its lane while the group is still
// re-applying the other lanes' slices.
test("a failed shared group keeps its lanes lent through the re-application; a refused slice's fallback waits", async () => {
  let gateRetryOf2a = true;
  const rec = recorder(
    (items) => (items.includes('1a') ? new Error(`refused: ${items.join(',')}`) : undefined),
    (items) => items.length === 1 && items[0] === '2a' && gateRetryOf2a,
  );
  const lanes = new Lanes<string, string>(10, rec.apply);
  const fallbacks: Promise<unknown>[] = [];
  const outcomes = [
    lanes.submit(0, ['0a'], noHeartbeat),
    lanes.submit(1, ['1a'], noHeartbeat).catch(() => {
      const fallback = lanes.exclusive(1, () => Promise.resolve(rec.calls.push(['1 fallback'])));
      fallbacks.push(fallback);
      return fallback;
    }),
    lanes.submit(2, ['2a'], noHeartbeat),
  ];
  await turns(10);
  // group failed, 0a and 1a re-applied alone, 2a's re-application held
  expect(rec.calls).toEqual([['0a', '1a', '2a'], ['0a'], ['1a'], ['2a']]);
  expect(fallbacks).toHaveLength(1);
  const next2 = lanes.submit(2, ['2b'], noHeartbeat);
  await turns(3);
  expect(rec.calls).toHaveLength(4); // neither 1's fallback nor 2b started beside the group
  gateRetryOf2a = false;
  rec.releaseAll();
  await Promise.all([...outcomes, next2, ...fallbacks]);
  expect(rec.calls).toHaveLength(6);
  expect(rec.calls.slice(4)).toEqual(expect.arrayContaining([['1 fallback'], ['2b']]));
  await turn();
  expect(lanes.busy).toBe(0);
});
