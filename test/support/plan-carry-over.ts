/**
 * What a slice's write and the next slice's load make of the events a plan
 * kept, for tests that run the plan without a database: they are stored kept
 * events now (with an id), waiting for their order, and none has a replay
 * verdict yet.
 */
import type { SliceState } from '../../src/pipeline/slice';

export function storeKeptEvents(
  state: Pick<SliceState, 'kept' | 'storedKept' | 'keptAwaiting'>,
  nextId: () => string,
) {
  state.storedKept.clear();
  for (const waiting of [state.kept, state.keptAwaiting]) {
    for (const [key, list] of waiting) {
      const stored = list.map((item) =>
        item.keptId === null ? { ...item, keptId: nextId(), row: null } : item,
      );
      waiting.set(key, stored);
      for (const item of stored) state.storedKept.set(item.key, null);
    }
  }
}
