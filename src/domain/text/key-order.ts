/**
 * The order a canonical JSON writer puts an object's keys in, worked out once
 * per shape (an object's own keys, in Object.keys order) and cached: the
 * idempotency substance (src/domain/escrow/idempotency.ts) and the ledger's
 * hash chain (src/ledger/chain-text.ts) each sort keys their own way, and
 * sorting costs microseconds per object while their objects come in a few
 * shapes.
 *
 * The cache is a tree of key lists, one step per key: finding an object's
 * shape builds no string (a JSON text of its keys, as an id, cost a third of
 * a writer's time), and two key lists are one shape only when they are
 * equal, whatever characters the keys hold. It stops growing at `maxShapes`
 * lists, a node per key of each, in case input brings more shapes.
 */

/** An object's keys in the order they are written, and each as it is written ("\"key\":"). */
export interface Shape {
  readonly keys: readonly string[];
  readonly labels: readonly string[];
}

interface ShapeNode {
  readonly next: Map<string, ShapeNode>;
  shape: Shape | undefined;
}

/**
 * The shape of an object, its keys put in `order` (which returns a new list
 * and leaves the one it is given as it is).
 */
export function keyOrderCache(
  order: (keys: readonly string[]) => string[],
  maxShapes = 256,
): (object: object) => Shape {
  const shapes: ShapeNode = { next: new Map(), shape: undefined };
  let cached = 0;
  return (object) => {
    const keys = Object.keys(object);
    let node: ShapeNode | undefined = shapes;
    for (let index = 0; index < keys.length && node !== undefined; index++)
      node = node.next.get(keys[index]!);
    if (node?.shape !== undefined) return node.shape;
    const ordered = order(keys);
    const shape: Shape = { keys: ordered, labels: ordered.map((key) => `${JSON.stringify(key)}:`) };
    if (cached < maxShapes) {
      let path = shapes;
      for (const key of keys) {
        let step = path.next.get(key);
        if (step === undefined) path.next.set(key, (step = { next: new Map(), shape: undefined }));
        path = step;
      }
      path.shape = shape;
      cached += 1;
    }
    return shape;
  };
}
